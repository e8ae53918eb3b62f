"""Modules and their items, wiki pages, files (three-step upload) and discussion topics."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from .errors import CanvasError, bad_request, invalid, not_found
from .params import as_list, to_bool, to_int
from .quizzes import QuizOps
from .records import DiscussionTopic, File, Module, ModuleItem, Page

ITEM_TYPES = ("File", "Page", "Discussion", "Assignment", "Quiz", "SubHeader", "ExternalUrl", "ExternalTool")
_CONTENT_TYPES = ("File", "Discussion", "Assignment", "Quiz", "ExternalTool")
DEFAULT_FOLDER = "course files/unfiled"


class ContentOps(QuizOps):
    # -- modules ---------------------------------------------------------------------------------

    def course_modules(self, course_id: int) -> list[Module]:
        with self.lock:
            self.course(course_id)
            return sorted((m for m in self.modules.values() if m.course_id == course_id and not m.deleted),
                          key=lambda m: (m.position, m.id))

    def get_module(self, course_id: int, module_id: Any) -> Module:
        with self.lock:
            mid = _id(module_id)
            module = self.modules.get(mid) if mid is not None else None
            if module is None or module.deleted or module.course_id != course_id:
                raise not_found()
            return module

    def create_module(self, course_id: int, fields: Mapping[str, Any]) -> Module:
        """Always created unpublished, whatever `published` says."""
        with self.lock:
            course = self.course(course_id)
            if not fields.get("name"):
                raise bad_request({"message": "missing module name"})
            siblings = self.course_modules(course.id)
            module = Module(self._next_id("module"), course.id, str(fields["name"]), len(siblings) + 1)
            self.modules[module.id] = module
            self._set_module_fields(module, {k: v for k, v in fields.items() if k != "published"})
            return module

    def update_module(self, course_id: int, module_id: Any, fields: Mapping[str, Any]) -> Module:
        with self.lock:
            module = self.get_module(course_id, module_id)
            if "name" in fields and not fields["name"]:
                raise bad_request({"message": "missing module name"})
            self._set_module_fields(module, fields)
            return module

    def delete_module(self, course_id: int, module_id: Any) -> Module:
        with self.lock:
            module = self.get_module(course_id, module_id)
            module.deleted = True
            for item in self.module_items.values():
                if item.module_id == module.id:
                    item.deleted = True
            self._renumber_modules(course_id)
            return module

    def _set_module_fields(self, module: Module, fields: Mapping[str, Any]) -> None:
        course = self.courses[module.course_id]
        if "name" in fields:
            module.name = str(fields["name"])
        if "unlock_at" in fields:
            try:
                module.unlock_at = self.date_input(course, fields["unlock_at"])
            except ValueError as error:
                raise bad_request({"message": "invalid unlock_at"}) from error
        for name in ("require_sequential_progress", "publish_final_grade", "published"):
            if name in fields:
                setattr(module, name, to_bool(fields[name]))
        if fields.get("position") not in (None, ""):
            position = _id(fields["position"]) or module.position
            siblings = [m for m in self.course_modules(module.course_id) if m.id != module.id]
            siblings.insert(max(0, min(position - 1, len(siblings))), module)
            for index, sibling in enumerate(siblings, start=1):
                sibling.position = index
        if "prerequisite_module_ids" in fields:
            # Prerequisites must come earlier in the course; later ones are silently dropped.
            wanted = [_id(v) for v in as_list(fields["prerequisite_module_ids"])]
            module.prerequisite_module_ids = [
                m.id for m in self.course_modules(module.course_id)
                if m.id in wanted and m.position < module.position]

    def _renumber_modules(self, course_id: int) -> None:
        for index, module in enumerate(self.course_modules(course_id), start=1):
            module.position = index

    # -- module items ----------------------------------------------------------------------------

    def module_items_of(self, module_id: int) -> list[ModuleItem]:
        with self.lock:
            return sorted((i for i in self.module_items.values() if i.module_id == module_id and not i.deleted),
                          key=lambda i: (i.position, i.id))

    def get_module_item(self, course_id: int, module_id: Any, item_id: Any) -> ModuleItem:
        with self.lock:
            module = self.get_module(course_id, module_id)
            iid = _id(item_id)
            item = self.module_items.get(iid) if iid is not None else None
            if item is None or item.deleted or item.module_id != module.id:
                raise not_found()
            return item

    def create_module_item(self, course_id: int, module_id: Any, fields: Mapping[str, Any]) -> ModuleItem:
        with self.lock:
            module = self.get_module(course_id, module_id)
            type_ = fields.get("type")
            if type_ not in ITEM_TYPES:
                raise bad_request({"message": "invalid or missing module item type"})
            title, content_id, page_url = self._item_target(course_id, str(type_), fields)
            item = ModuleItem(
                self._next_id("module_item"), course_id, module.id, str(type_), title,
                len(self.module_items_of(module.id)) + 1, content_id=content_id, page_url=page_url)
            self.module_items[item.id] = item
            self._set_item_fields(item, {k: v for k, v in fields.items() if k != "published"})
            return item

    def update_module_item(self, course_id: int, module_id: Any, item_id: Any, fields: Mapping[str, Any]) -> ModuleItem:
        with self.lock:
            item = self.get_module_item(course_id, module_id, item_id)
            if fields.get("module_id") not in (None, ""):
                target = self.get_module(course_id, fields["module_id"])
                if target.id != item.module_id:
                    old = item.module_id
                    item.module_id = target.id
                    item.position = len(self.module_items_of(target.id))
                    self._renumber_items(old)
            self._set_item_fields(item, fields)
            return item

    def delete_module_item(self, course_id: int, module_id: Any, item_id: Any) -> ModuleItem:
        with self.lock:
            item = self.get_module_item(course_id, module_id, item_id)
            item.deleted = True
            self._renumber_items(item.module_id)
            return item

    def _item_target(self, course_id: int, type_: str, fields: Mapping[str, Any]) -> tuple[str, int | None, str | None]:
        title = fields.get("title")
        if type_ == "Page":
            if not fields.get("page_url"):
                raise bad_request({"message": "missing module item parameter page_url"})
            page = self.get_page(course_id, fields["page_url"])
            return str(title or page.title), page.id, page.url
        if type_ in _CONTENT_TYPES:
            if fields.get("content_id") in (None, ""):
                raise bad_request({"message": "missing module item parameter content_id"})
            cid = fields["content_id"]
            try:
                if type_ == "Assignment":
                    name = self.get_assignment(course_id, cid).name
                elif type_ == "Quiz":
                    name = self.get_quiz(course_id, cid).title
                elif type_ == "File":
                    file = self.get_file(cid)
                    if file.course_id != course_id:
                        raise not_found()
                    name = file.display_name
                elif type_ == "Discussion":
                    name = self.get_topic(course_id, cid).title
                else:
                    name = str(title or "External Tool")
            except CanvasError as error:
                raise bad_request({"message": "could not find the item's content"}) from error
            return str(title or name), _id(cid), None
        if not title:
            raise bad_request({"message": "missing module item parameter title"})
        if type_ == "ExternalUrl" and not fields.get("external_url"):
            raise bad_request({"message": "missing module item parameter external_url"})
        return str(title), None, None

    def _set_item_fields(self, item: ModuleItem, fields: Mapping[str, Any]) -> None:
        if fields.get("title"):
            item.title = str(fields["title"])
        if "external_url" in fields:
            item.external_url = fields["external_url"]
        if "new_tab" in fields:
            item.new_tab = to_bool(fields["new_tab"])
        if fields.get("indent") not in (None, ""):
            item.indent = _id(fields["indent"]) or 0
        if isinstance(fields.get("completion_requirement"), Mapping):
            item.completion_requirement = dict(fields["completion_requirement"])
        if "published" in fields:
            self.set_item_published(item, to_bool(fields["published"]))
        if fields.get("position") not in (None, ""):
            siblings = [i for i in self.module_items_of(item.module_id) if i.id != item.id]
            position = _id(fields["position"]) or item.position
            siblings.insert(max(0, min(position - 1, len(siblings))), item)
            for index, sibling in enumerate(siblings, start=1):
                sibling.position = index

    def _renumber_items(self, module_id: int) -> None:
        for index, item in enumerate(self.module_items_of(module_id), start=1):
            item.position = index

    def item_published(self, item: ModuleItem) -> bool:
        """An item shares its content's state; only headers and links have their own."""
        cid = item.content_id
        if item.type == "Assignment" and cid in self.assignments:
            return self.assignments[cid].published
        if item.type == "Quiz" and cid in self.quizzes:
            return self.quizzes[cid].published
        if item.type == "Page" and cid in self.pages:
            return self.pages[cid].published
        if item.type == "File" and cid in self.files:
            return not self.files[cid].locked
        if item.type == "Discussion" and cid in self.topics:
            return self.topics[cid].published
        return item.published

    def set_item_published(self, item: ModuleItem, published: bool) -> None:
        cid = item.content_id
        if item.type == "Assignment" and cid in self.assignments:
            assignment = self.assignments[cid]
            assignment.published = published
            self._sync_quiz_from_assignment(assignment)
        elif item.type == "Quiz" and cid in self.quizzes:
            quiz = self.quizzes[cid]
            quiz.published = published
            self._sync_quiz_assignment(quiz)
        elif item.type == "Page" and cid in self.pages:
            self.pages[cid].published = published
        elif item.type == "File" and cid in self.files:
            self.files[cid].locked = not published
        elif item.type == "Discussion" and cid in self.topics:
            self.topics[cid].published = published
        item.published = published

    # -- pages -----------------------------------------------------------------------------------

    def course_pages(self, course_id: int) -> list[Page]:
        with self.lock:
            self.course(course_id)
            return sorted((p for p in self.pages.values() if p.course_id == course_id and not p.deleted),
                          key=lambda p: p.title.lower())

    def get_page(self, course_id: int, url_or_id: Any) -> Page:
        """By url slug (current or former), `page_id:N`, or a bare numeric id."""
        with self.lock:
            text = str(url_or_id)
            pages = [p for p in self.pages.values() if p.course_id == course_id and not p.deleted]
            if text.startswith("page_id:"):
                found = [p for p in pages if str(p.id) == text.split(":", 1)[1]]
            else:
                found = ([p for p in pages if p.url == text] or [p for p in pages if text in p.old_urls]
                         or [p for p in pages if text.isdigit() and p.id == int(text)])
            if not found:
                raise not_found()
            return found[0]

    def create_page(self, course_id: int, fields: Mapping[str, Any]) -> Page:
        with self.lock:
            course = self.course(course_id)
            if not fields.get("title"):
                raise invalid("title", "can't be blank", "blank")
            now = self.now()
            page = Page(self._next_id("page"), course.id, str(fields["title"]),
                        self._slug(course.id, str(fields["title"])), now, now)
            self._set_page_fields(page, fields)
            self.pages[page.id] = page
            return page

    def update_page(self, course_id: int, url_or_id: Any, fields: Mapping[str, Any]) -> Page:
        with self.lock:
            page = self.get_page(course_id, url_or_id)
            if "title" in fields:
                if not fields["title"]:
                    raise invalid("title", "can't be blank", "blank")
                if fields["title"] != page.title:
                    # A new title renames the url; the old one keeps resolving.
                    page.old_urls.append(page.url)
                    page.title = str(fields["title"])
                    page.url = self._slug(course_id, page.title, exclude=page.id)
            self._set_page_fields(page, fields)
            page.updated_at = self.now()
            return page

    def delete_page(self, course_id: int, url_or_id: Any) -> Page:
        with self.lock:
            page = self.get_page(course_id, url_or_id)
            page.deleted = True
            self._remove_module_items("Page", page.id)
            return page

    def _set_page_fields(self, page: Page, fields: Mapping[str, Any]) -> None:
        if "body" in fields:
            page.body = fields["body"]
        if "published" in fields:
            page.published = to_bool(fields["published"])
        if "front_page" in fields:
            page.front_page = to_bool(fields["front_page"])
        if fields.get("editing_roles"):
            page.editing_roles = str(fields["editing_roles"])

    def _slug(self, course_id: int, title: str, exclude: int | None = None) -> str:
        base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "page"
        taken = {p.url for p in self.pages.values() if p.course_id == course_id and not p.deleted and p.id != exclude}
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        return slug

    # -- files -----------------------------------------------------------------------------------

    def start_upload(self, course_id: int, fields: Mapping[str, Any]) -> File:
        """Step 1: a pending file and a one-off upload token."""
        with self.lock:
            course = self.course(course_id)
            if fields.get("parent_folder_id") not in (None, "") and fields.get("parent_folder_path") not in (None, ""):
                raise bad_request({"message": "Can't set folder path and folder id"})
            if not fields.get("name"):
                raise bad_request({"message": "name is required"})
            path = str(fields.get("parent_folder_path") or DEFAULT_FOLDER).strip("/")
            if fields.get("parent_folder_id") not in (None, ""):
                path = next((p for (cid, p), fid in self.folders.items()
                             if cid == course.id and str(fid) == str(fields["parent_folder_id"])), None) or ""
                if not path:
                    raise not_found()
            now = self.now()
            file = File(
                id=self._next_id("file"), course_id=course.id, uuid=uuid.uuid4().hex, folder_id=self._folder(course.id, path),
                folder_path=path, display_name=str(fields["name"]),
                content_type=str(fields.get("content_type") or "application/octet-stream"),
                created_at=now, updated_at=now, size=_id(fields.get("size")) or 0,
                upload_token=secrets.token_urlsafe(16),
                on_duplicate=str(fields.get("on_duplicate") or "overwrite"))
            self.files[file.id] = file
            return file

    def _folder(self, course_id: int, path: str) -> int:
        key = (course_id, path)
        if key not in self.folders:
            self.folders[key] = self._next_id("folder")
        return self.folders[key]

    def receive_upload(self, token: str, data: bytes, filename: str | None, content_type: str | None) -> File:
        """Step 2 (not Canvas: S3 or inst-fs). 201 mode completes the file here."""
        with self.lock:
            file = next((f for f in self.files.values() if f.upload_token == token and f.state == "pending"), None)
            if file is None:
                raise not_found()
            file.data = data
            file.size = len(data)
            if content_type and file.content_type == "application/octet-stream":
                file.content_type = content_type
            file.state = "uploaded"
            if not self.config.upload_redirect:
                self._finish(file)
            return file

    def complete_upload(self, file_id: Any, uuid_: str | None) -> File:
        """Step 3 on a 3xx: GET the Location with the token."""
        with self.lock:
            fid = _id(file_id)
            file = self.files.get(fid) if fid is not None else None
            if file is None or file.deleted or file.state == "pending" or (uuid_ and uuid_ != file.uuid):
                raise not_found()
            if file.state == "uploaded":
                self._finish(file)
            return file

    def _finish(self, file: File) -> None:
        same = [f for f in self.files.values()
                if f.id != file.id and f.course_id == file.course_id and f.folder_id == file.folder_id
                and f.state == "available" and not f.deleted and f.display_name == file.display_name]
        if same and file.on_duplicate == "rename":
            stem, dot, ext = file.display_name.rpartition(".")
            stem, ext = (stem, f".{ext}") if dot else (ext, "")
            names = {f.display_name for f in self.files.values() if f.folder_id == file.folder_id and not f.deleted}
            n = 1
            while f"{stem}-{n}{ext}" in names:
                n += 1
            file.display_name = f"{stem}-{n}{ext}"
        else:
            for old in same:
                old.deleted = True  # overwrite: the old attachment is replaced
        file.state = "available"
        file.upload_token = None
        file.updated_at = self.now()

    def get_file(self, file_id: Any) -> File:
        with self.lock:
            fid = _id(file_id)
            file = self.files.get(fid) if fid is not None else None
            if file is None or file.deleted or file.state != "available":
                raise not_found()
            return file

    def course_files(self, course_id: int, search_term: str | None = None) -> list[File]:
        with self.lock:
            self.course(course_id)
            return sorted((f for f in self.files.values()
                           if f.course_id == course_id and f.state == "available" and not f.deleted
                           and (not search_term or search_term.lower() in f.display_name.lower())),
                          key=lambda f: f.id)

    def update_file(self, file_id: Any, fields: Mapping[str, Any]) -> File:
        with self.lock:
            file = self.get_file(file_id)
            course = self.courses[file.course_id]
            if fields.get("name"):
                file.display_name = str(fields["name"])
            for name in ("locked", "hidden"):
                if name in fields:
                    setattr(file, name, to_bool(fields[name]))
            for name in ("unlock_at", "lock_at"):
                if name in fields:
                    try:
                        setattr(file, name, self.date_input(course, fields[name]))
                    except ValueError as error:
                        raise invalid(name, f"Invalid datetime for {name}") from error
            if fields.get("parent_folder_id") not in (None, ""):
                path = next((p for (cid, p), fid in self.folders.items()
                             if cid == file.course_id and str(fid) == str(fields["parent_folder_id"])), None)
                if path is None:
                    raise not_found()
                file.folder_path, file.folder_id = path, self.folders[(file.course_id, path)]
            file.updated_at = self.now()
            return file

    def delete_file(self, file_id: Any) -> File:
        with self.lock:
            file = self.get_file(file_id)
            file.deleted = True
            self._remove_module_items("File", file.id)
            return file

    # -- discussion topics and announcements -----------------------------------------------------

    def course_topics(self, course_id: int, only_announcements: bool = False) -> list[DiscussionTopic]:
        with self.lock:
            self.course(course_id)
            return sorted((t for t in self.topics.values() if t.course_id == course_id and not t.deleted
                           and t.is_announcement == only_announcements),
                          key=lambda t: t.id, reverse=True)

    def get_topic(self, course_id: int, topic_id: Any) -> DiscussionTopic:
        with self.lock:
            tid = _id(topic_id)
            topic = self.topics.get(tid) if tid is not None else None
            if topic is None or topic.deleted or topic.course_id != course_id:
                raise not_found()
            return topic

    def create_topic(self, course_id: int, fields: Mapping[str, Any]) -> DiscussionTopic:
        with self.lock:
            course = self.course(course_id)
            announcement = to_bool(fields.get("is_announcement"))
            now = self.now()
            topic = DiscussionTopic(self._next_id("topic"), course.id, str(fields.get("title") or "No Title"), now,
                                    is_announcement=announcement, published=announcement)
            self._set_topic_fields(topic, fields)
            if topic.published and topic.posted_at is None:
                topic.posted_at = topic.delayed_post_at or now
            self.topics[topic.id] = topic
            return topic

    def update_topic(self, course_id: int, topic_id: Any, fields: Mapping[str, Any]) -> DiscussionTopic:
        with self.lock:
            topic = self.get_topic(course_id, topic_id)
            self._set_topic_fields(topic, fields)
            return topic

    def delete_topic(self, course_id: int, topic_id: Any) -> DiscussionTopic:
        with self.lock:
            topic = self.get_topic(course_id, topic_id)
            topic.deleted = True
            self._remove_module_items("Discussion", topic.id)
            return topic

    def _set_topic_fields(self, topic: DiscussionTopic, fields: Mapping[str, Any]) -> None:
        course = self.courses[topic.course_id]
        if fields.get("title"):
            topic.title = str(fields["title"])
        if "message" in fields:
            topic.message = fields["message"]
        if "published" in fields and not topic.is_announcement:
            topic.published = to_bool(fields["published"])
        for name in ("delayed_post_at", "lock_at"):
            if name in fields:
                try:
                    setattr(topic, name, self.date_input(course, fields[name]))
                except ValueError as error:
                    raise invalid(name, f"Invalid datetime for {name}") from error


def _id(value: Any) -> int | None:
    try:
        return to_int(value)
    except ValueError:
        return None
