"""The Canvas adapter: the port of `lms_bridge.lms` in Canvas REST calls.

Reads use list endpoints (a handful of calls a course, whatever its size). Writes are
declarative where Canvas allows it (`date_details` sets all of an assessment's overrides in
one call; quiz extensions and New Quizzes accommodations set values), and creates are
guarded: after an uncertain POST the adapter looks for the object by name before trying
again, so a retried apply never duplicates anything.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from lms_bridge.domain.model import Delivery
from lms_bridge.lms import (
    AssessmentTarget,
    CourseRef,
    CourseTarget,
    Dates,
    ExamTarget,
    ObservedArea,
    ObservedAssessment,
    ObservedCourse,
    ObservedExam,
    ObservedOverride,
    OverrideTarget,
    Student,
)
from lms_bridge.sync import naming
from lms_bridge.sync.operations import Action, Operation

from .client import CanvasClient
from .errors import CanvasError, CanvasUncertainWrite

log = logging.getLogger("lms_bridge.canvas")
PAPER_FOLDER = "lms_bridge exam papers"
_ONE_MINUTE = timedelta(minutes=1)


class CanvasSyncError(Exception):
    """Canvas refused part of an operation (e.g. accommodations for some students)."""


@dataclass
class _Ids:
    """What a course holds of one exam, as Canvas ids; filled by reads, updated by writes."""

    module_id: str | None = None
    linked: set[tuple[str, str]] = field(default_factory=set)  # (item type, content) in the module
    page_url: str | None = None
    paper_id: str | None = None
    # role ("exam" | "practice") -> (delivery, object id, backing assignment id)
    assessments: dict[str, tuple[Delivery, str, str]] = field(default_factory=dict)
    # roles whose overrides went in with the create call this run (a drop-box takes them inline)
    overrides_inline: set[str] = field(default_factory=set)


class CanvasAdapter:
    def __init__(self, client: CanvasClient, zone: ZoneInfo) -> None:
        self.client = client
        self.zone = zone
        self._ids: dict[tuple[CourseRef, str], _Ids] = {}
        self._rosters: dict[CourseRef, tuple[Student, ...]] = {}  # a run reads each roster once

    # -- pure adjustment -------------------------------------------------------------------
    def adjust_target(self, target: CourseTarget) -> CourseTarget:
        """Canvas turns a due or lock time of exactly 00:00 local into 23:59:59 the same day
        ("fancy midnight"): a whole day early for an exam. Such times move to 00:01, one
        minute later, in the student's favour."""
        def fix(d: Dates) -> Dates:
            return Dates(d.opens_at, self._not_midnight(d.due_at), self._not_midnight(d.closes_at))

        def assessment(a: AssessmentTarget | None) -> AssessmentTarget | None:
            if a is None:
                return None
            return dataclasses.replace(
                a, dates=fix(a.dates),
                overrides=tuple(dataclasses.replace(o, dates=fix(o.dates)) for o in a.overrides),
            )

        exams = tuple(
            dataclasses.replace(e, assessment=assessment(e.assessment), practice=assessment(e.practice))
            for e in target.exams
        )
        return dataclasses.replace(target, exams=exams)

    def _not_midnight(self, instant: datetime | None) -> datetime | None:
        if instant is None or instant.astimezone(self.zone).time() != time(0, 0):
            return instant
        return instant + _ONE_MINUTE

    # -- reads -----------------------------------------------------------------------------
    async def read_roster(self, course: CourseRef) -> tuple[Student, ...]:
        rows = await self.client.get_all(
            f"/courses/{_cid(course)}/enrollments",
            {"type[]": "StudentEnrollment", "state[]": "active"},
        )
        seen: dict[str, Student] = {}
        for row in rows:
            user = row.get("user") or {}
            uid = str(row.get("user_id") or user.get("id"))
            seen[uid] = Student(user.get("sis_user_id") or None, uid)
        self._rosters[course] = tuple(seen.values())
        return self._rosters[course]

    async def read_course(self, course: CourseRef, exams: Sequence[tuple[str, str]]) -> ObservedCourse:
        cid = _cid(course)
        roster = self._rosters.get(course) or await self.read_roster(course)
        # independent reads go out together: latency, not Canvas's throttle, bounds a read
        modules, pages, files, assignments, quizzes = await asyncio.gather(
            self.client.get_all(f"/courses/{cid}/modules", {"include[]": "items"}),
            self.client.get_all(f"/courses/{cid}/pages"),
            self.client.get_all(f"/courses/{cid}/files"),
            self.client.get_all(
                f"/courses/{cid}/assignments", {"include[]": "overrides", "override_assignment_dates": "false"}
            ),
            self.client.get_all(f"/courses/{cid}/quizzes"),
        )

        async def one(exam_id: str) -> tuple[str, ObservedExam]:
            ids = self._ids[(course, exam_id)] = _Ids()
            assessment, practice = await asyncio.gather(
                self._find_assessment(cid, exam_id, False, assignments, quizzes, ids),
                self._find_assessment(cid, exam_id, True, assignments, quizzes, ids),
            )
            area = await self._find_area(cid, exam_id, modules, pages, files, ids)  # needs the assessment ids
            return exam_id, ObservedExam(area, assessment, practice)

        observed = dict(await asyncio.gather(*(one(exam_id) for exam_id, _ in exams)))
        return ObservedCourse(course, roster, observed)

    async def _find_area(self, cid: str, exam_id: str, modules: list, pages: list, files: list, ids: _Ids) -> ObservedArea | None:
        tag = naming.tag(exam_id)
        module = next((m for m in modules if m["name"].startswith("Exam: ") and m["name"].endswith(tag)), None)
        page = next((p for p in pages if p["title"].startswith("Exam information: ") and p["title"].endswith(tag)), None)
        paper = next((f for f in files if f"{tag} paper" in f.get("display_name", f.get("filename", ""))), None)
        ids.page_url = page["url"] if page else None
        ids.paper_id = str(paper["id"]) if paper else None
        if module is None and page is None and paper is None:
            return None
        ids.module_id = str(module["id"]) if module else None  # deleted by hand: page and paper remain
        body = None
        if page is not None:
            body = (await self.client.get(f"/courses/{cid}/pages/{quote(page['url'])}")).get("body")
        refs = set()
        by_content = {("Page", ids.page_url): "page", ("File", ids.paper_id): "paper"}
        for role, (delivery, object_id, _aid) in ids.assessments.items():
            kind = "assessment" if role == "exam" else "practice"
            by_content[("Quiz" if delivery is Delivery.QUIZ else "Assignment", object_id)] = kind
        for item in (module or {}).get("items") or ():
            key = (item["type"], item.get("page_url") if item["type"] == "Page" else str(item.get("content_id")))
            ids.linked.add(key)
            kind = by_content.get(key)
            if kind:
                refs.add(f"{kind}:{key[1]}")
        return ObservedArea(
            module_id=ids.module_id,
            module_name=module["name"] if module else None,
            published=bool(module and module.get("published")),
            page_id=ids.page_url,
            page_html=body,
            paper_id=ids.paper_id,
            paper_locked_until=_instant(paper.get("unlock_at")) if paper else None,
            item_refs=frozenset(refs),
            page_title=page["title"] if page else None,
            paper_name=paper.get("display_name") if paper else None,
        )

    async def _find_assessment(
        self, cid: str, exam_id: str, practice: bool, assignments: list, quizzes: list, ids: _Ids
    ) -> ObservedAssessment | None:
        tag = naming.tag(exam_id)

        def ours(name: str) -> bool:
            return name.endswith(tag) and naming.is_practice(name) == practice and not naming.is_retired(name)

        role = "practice" if practice else "exam"
        quiz = next((q for q in quizzes if ours(q["title"])), None)
        if quiz is not None:
            assignment = next((a for a in assignments if str(a.get("quiz_id")) == str(quiz["id"])), None)
            aid = str(quiz.get("assignment_id") or (assignment or {}).get("id"))
            ids.assessments[role] = (Delivery.QUIZ, str(quiz["id"]), aid)
            extra = await self._classic_extensions(cid, str(quiz["id"]))
            return ObservedAssessment(
                id=str(quiz["id"]),
                name=quiz["title"],
                delivery=Delivery.QUIZ,
                dates=_dates(quiz),
                time_limit_minutes=quiz.get("time_limit"),
                published=bool(quiz.get("published")),
                settings={
                    "attempts": quiz.get("allowed_attempts"),
                    "access_code": quiz.get("access_code") or "",
                    "shuffle_answers": bool(quiz.get("shuffle_answers")),
                    "hide_results_until_close": quiz.get("show_correct_answers_at") is not None,
                },
                overrides=_overrides(assignment),
                extra_minutes=extra,
            )
        assignment = next((a for a in assignments if ours(a["name"]) and not a.get("quiz_id")), None)
        if assignment is None:
            return None
        aid = str(assignment["id"])
        if assignment.get("is_quiz_lti_assignment"):
            ids.assessments[role] = (Delivery.NEW_QUIZ, aid, aid)
            quiz = await self.client.get(f"/api/quiz/v1/courses/{cid}/quizzes/{aid}")
            settings = quiz.get("quiz_settings") or {}
            seconds = settings.get("session_time_limit_in_seconds") if settings.get("has_time_limit") else None
            return ObservedAssessment(
                id=aid,
                name=assignment["name"],
                delivery=Delivery.NEW_QUIZ,
                dates=_dates(assignment),
                time_limit_minutes=None if seconds is None else int(seconds) // 60,
                published=bool(assignment.get("published")),
                settings={
                    "access_code": settings.get("student_access_code") or "" if settings.get("require_student_access_code") else "",
                    "shuffle_answers": bool(settings.get("shuffle_answers")),
                },
                overrides=_overrides(assignment),
                extra_minutes=await self._accommodations(cid, aid),
            )
        ids.assessments[role] = (Delivery.DROPBOX, aid, aid)
        return ObservedAssessment(
            id=aid,
            name=assignment["name"],
            delivery=Delivery.DROPBOX,
            dates=_dates(assignment),
            time_limit_minutes=None,
            published=bool(assignment.get("published")),
            settings={},
            overrides=_overrides(assignment),
            extra_minutes={},
        )

    async def _classic_extensions(self, cid: str, quiz_id: str) -> dict[str, int]:
        rows = await self.client.get_all(f"/courses/{cid}/quizzes/{quiz_id}/submissions", key="quiz_submissions")
        return {str(r["user_id"]): int(r["extra_time"]) for r in rows if r.get("extra_time")}

    async def _accommodations(self, cid: str, aid: str) -> dict[str, int]:
        body = await self.client.get(f"/courses/{cid}/new_quizzes/{aid}/accommodations")
        return {str(r["user_id"]): int(r["extra_time"]) for r in body.get("accommodations", []) if r.get("extra_time")}

    # -- writes ----------------------------------------------------------------------------
    async def apply(self, course: CourseRef, op: Operation) -> None:
        ids = self._ids.setdefault((course, op.exam_id), _Ids())
        handler: Callable[[str, Operation, _Ids], Awaitable[None]] = getattr(self, f"_{op.action.name.lower()}")
        await handler(_cid(course), op, ids)

    async def _create_module(self, cid: str, op: Operation, ids: _Ids) -> None:
        name = op.target.area.module_name
        module = await self._create(
            f"/courses/{cid}/modules", {"module": {"name": name}},
            lambda: self._find_by(f"/courses/{cid}/modules", "name", name),
        )
        ids.module_id = str(module["id"])
        ids.linked = set()  # a new module links nothing yet
        # Canvas always creates modules unpublished; the paper and assessment carry their own locks
        await self.client.put(f"/courses/{cid}/modules/{ids.module_id}", json={"module": {"published": True}})

    async def _update_module(self, cid: str, op: Operation, ids: _Ids) -> None:
        fields = {"published": True, "name": op.target.area.module_name}
        await self.client.put(f"/courses/{cid}/modules/{ids.module_id}", json={"module": fields})

    async def _create_page(self, cid: str, op: Operation, ids: _Ids) -> None:
        area = op.target.area
        page = await self._create(
            f"/courses/{cid}/pages",
            {"wiki_page": {"title": area.page_title, "body": area.page_html, "published": True, "editing_roles": "teachers"}},
            lambda: self._find_by(f"/courses/{cid}/pages", "title", area.page_title),
        )
        ids.page_url = page["url"]

    async def _update_page(self, cid: str, op: Operation, ids: _Ids) -> None:
        area = op.target.area
        page = await self.client.put(f"/courses/{cid}/pages/{quote(ids.page_url or '')}",
                                     json={"wiki_page": {"title": area.page_title, "body": area.page_html}})
        ids.page_url = (page or {}).get("url", ids.page_url)  # Canvas re-slugs a renamed page

    async def _upload_paper(self, cid: str, op: Operation, ids: _Ids) -> None:
        area = op.target.area
        assert area.paper is not None and area.paper_name is not None
        found = await self._find_by(f"/courses/{cid}/files", "display_name", area.paper_name)
        if found is None:
            found = await self.client.upload_file(
                f"/courses/{cid}/files", area.paper_name, _content_type(area.paper_name), area.paper,
                parent_folder_path=PAPER_FOLDER,
            )
        old, ids.paper_id = ids.paper_id, str(found["id"])
        await self._lock_paper(cid, op, ids)
        if old is not None and old != ids.paper_id:  # a corrected paper: students must not see the old one
            await self.client.delete(f"/files/{old}")

    async def _lock_paper(self, cid: str, op: Operation, ids: _Ids) -> None:
        await self.client.put(f"/files/{ids.paper_id}", json={"unlock_at": _iso(op.target.area.release_at)})

    async def _create_assessment(self, cid: str, op: Operation, ids: _Ids) -> None:
        want = _want(op)
        if want.delivery is Delivery.DROPBOX:
            # the overrides ride along with the create (canvas-api.md §6.1): one call fewer
            overrides = [_override_fields(o, self.zone) for o in want.overrides]
            fields = _dropbox_fields(want) | {"published": True, "assignment_overrides": overrides}
            made, answered = await self._create_answered(
                f"/courses/{cid}/assignments", {"assignment": fields},
                lambda: self._find_by(f"/courses/{cid}/assignments", "name", want.name),
            )
            ids.assessments[op.role] = (Delivery.DROPBOX, str(made["id"]), str(made["id"]))
            if answered:  # found after an uncertain write: its overrides are not known to be there
                ids.overrides_inline.add(op.role)
        elif want.delivery is Delivery.QUIZ:
            made = await self._create(
                f"/courses/{cid}/quizzes", {"quiz": _quiz_fields(want) | {"published": True}},
                lambda: self._find_by(f"/courses/{cid}/quizzes", "title", want.name),
            )
            ids.assessments[op.role] = (Delivery.QUIZ, str(made["id"]), str(made.get("assignment_id")))
        else:
            made = await self._create(
                f"/api/quiz/v1/courses/{cid}/quizzes", {"quiz": _new_quiz_fields(want)},
                lambda: self._find_by(f"/api/quiz/v1/courses/{cid}/quizzes", "title", want.name),
            )
            aid = str(made["id"])
            ids.assessments[op.role] = (Delivery.NEW_QUIZ, aid, aid)
            # New Quizzes have no published field: the backing assignment carries it
            await self.client.put(f"/courses/{cid}/assignments/{aid}", json={"assignment": {"published": True}})

    async def _retire_assessment(self, cid: str, op: Operation, ids: _Ids) -> None:
        delivery, object_id, aid = ids.assessments.pop(op.role)
        old = op.observed.practice if op.role == "practice" else op.observed.assessment
        name = naming.retired_name(old.name if old else _want(op).name)
        if delivery is Delivery.QUIZ:
            await self.client.put(f"/courses/{cid}/quizzes/{object_id}", json={"quiz": {"title": name, "published": False}})
        else:
            await self.client.put(f"/courses/{cid}/assignments/{aid}", json={"assignment": {"name": name, "published": False}})

    async def _update_assessment(self, cid: str, op: Operation, ids: _Ids) -> None:
        want = _want(op)
        delivery, object_id, aid = ids.assessments[op.role]
        if delivery is Delivery.DROPBOX:
            await self.client.put(f"/courses/{cid}/assignments/{aid}", json={"assignment": _dropbox_fields(want) | {"published": True}})
        elif delivery is Delivery.QUIZ:
            await self.client.put(f"/courses/{cid}/quizzes/{object_id}", json={"quiz": _quiz_fields(want) | {"published": True}})
        else:
            await self.client.patch(f"/api/quiz/v1/courses/{cid}/quizzes/{aid}", json={"quiz": _new_quiz_fields(want)}, idempotent=True)
            await self.client.put(f"/courses/{cid}/assignments/{aid}", json={"assignment": {"published": True}})

    async def _set_overrides(self, cid: str, op: Operation, ids: _Ids) -> None:
        """One declarative call: the assessment's base dates and its whole set of overrides;
        kept overrides are updated in place, missing ones created, the rest deleted."""
        assert op.overrides is not None
        if op.role in ids.overrides_inline and not op.overrides.keep and not op.overrides.delete:
            ids.overrides_inline.discard(op.role)  # created with exactly these overrides just now
            return
        want = _want(op)
        delivery, object_id, aid = ids.assessments[op.role]
        path = (f"/courses/{cid}/quizzes/{object_id}/date_details" if delivery is Delivery.QUIZ
                else f"/courses/{cid}/assignments/{aid}/date_details")
        overrides = [
            {"id": int(oid)} if oid is not None else {} for oid, _ in op.overrides.desired
        ]
        for item, (_, target) in zip(overrides, op.overrides.desired):
            item.update(_override_fields(target, self.zone))
        body = _date_fields(want.dates) | {"assignment_overrides": overrides}
        await self.client.put(path, json=body)

    async def _set_extra_time(self, cid: str, op: Operation, ids: _Ids) -> None:
        delivery, object_id, aid = ids.assessments[op.role]
        entries = [{"user_id": int(u), "extra_time": m} for u, m in sorted(op.extra_minutes.items())]
        if delivery is Delivery.QUIZ:
            await self.client.post(f"/courses/{cid}/quizzes/{object_id}/extensions",
                                   json={"quiz_extensions": entries}, idempotent=True)
            return
        body = await self.client.post(f"/api/quiz/v1/courses/{cid}/quizzes/{aid}/accommodations",
                                      json=entries, idempotent=True)
        failed = (body or {}).get("failed") or []
        if failed:  # Canvas answers 200 even when some students failed
            users = ", ".join(str(f.get("user_id")) for f in failed)
            raise CanvasSyncError(f"New Quizzes refused extra time for {len(failed)} users ({users})")

    async def _link_items(self, cid: str, op: Operation, ids: _Ids) -> None:
        have = ids.linked  # as read back just now, plus what this run linked
        wanted: list[tuple[str, str, dict[str, Any]]] = []
        if ids.page_url:
            wanted.append(("Page", ids.page_url, {"page_url": ids.page_url}))
        if ids.paper_id:
            wanted.append(("File", ids.paper_id, {"content_id": int(ids.paper_id)}))
        for role in ("practice", "exam"):
            if role in ids.assessments:
                delivery, object_id, _ = ids.assessments[role]
                kind = "Quiz" if delivery is Delivery.QUIZ else "Assignment"
                wanted.append((kind, object_id, {"content_id": int(object_id)}))
        for kind, ident, extra in wanted:
            if (kind, ident) not in have:
                await self.client.post(
                    f"/courses/{cid}/modules/{ids.module_id}/items", json={"module_item": {"type": kind, **extra}}
                )
                have.add((kind, ident))

    # -- guarded creation ------------------------------------------------------------------
    async def _create(self, path: str, body: dict, find: Callable[[], Awaitable[dict | None]]) -> dict:
        """POST, and if Canvas may or may not have done it, look before trying again."""
        return (await self._create_answered(path, body, find))[0]

    async def _create_answered(
        self, path: str, body: dict, find: Callable[[], Awaitable[dict | None]]
    ) -> tuple[dict, bool]:
        """As `_create`, and whether Canvas answered a POST of ours (not: found after doubt)."""
        try:
            return await self.client.post(path, json=body), True
        except CanvasUncertainWrite:
            found = await find()
            if found is not None:
                return found, False
            return await self.client.post(path, json=body), True

    async def _find_by(self, path: str, key: str, value: str) -> dict | None:
        return next((row for row in await self.client.get_all(path) if row.get(key) == value), None)


# -- field mapping ---------------------------------------------------------------------------


def _cid(course: CourseRef) -> str:
    return quote(course.id, safe=":")


def _want(op: Operation) -> AssessmentTarget:
    t: ExamTarget = op.target
    want = t.practice if op.role == "practice" else t.assessment
    assert want is not None
    return want


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _dates(obj: dict) -> Dates:
    return Dates(_instant(obj.get("unlock_at")), _instant(obj.get("due_at")), _instant(obj.get("lock_at")))


def _date_fields(d: Dates) -> dict[str, str | None]:
    return {"unlock_at": _iso(d.opens_at), "due_at": _iso(d.due_at), "lock_at": _iso(d.closes_at)}


def _overrides(assignment: dict | None) -> tuple[ObservedOverride, ...]:
    out = []
    for o in (assignment or {}).get("overrides") or ():
        if o.get("student_ids"):
            out.append(ObservedOverride(str(o["id"]), _dates(o), frozenset(str(s) for s in o["student_ids"])))
    return tuple(out)


def _override_fields(target: OverrideTarget, zone: ZoneInfo) -> dict[str, Any]:
    # The title is visible to staff: it names the window, never a reason or a plan.
    closes = target.dates.closes_at.astimezone(zone) if target.dates.closes_at else None
    title = f"Window closing {closes:%d %b %H:%M}" if closes else "Window"
    return {"title": title, "student_ids": sorted(int(u) for u in target.lms_user_ids)} | _date_fields(target.dates)


def _dropbox_fields(want: AssessmentTarget) -> dict[str, Any]:
    return {
        "name": want.name,
        "submission_types": ["online_upload"],
        "description": want.instructions_html,
        "points_possible": 100,
        "allowed_attempts": want.setup.attempts,
    } | _date_fields(want.dates)


def _quiz_fields(want: AssessmentTarget) -> dict[str, Any]:
    s = want.setup
    return {
        "title": want.name,
        "description": want.instructions_html,
        "quiz_type": "assignment",
        "time_limit": want.time_limit_minutes,
        "allowed_attempts": s.attempts,
        "access_code": s.access_code or None,
        "shuffle_answers": s.shuffle_answers,
        "show_correct_answers": True,
        # results stay hidden until the exam has closed for everyone in the standard window
        "show_correct_answers_at": _iso(want.dates.closes_at) if s.hide_results_until_close else None,
    } | _date_fields(want.dates)


def _new_quiz_fields(want: AssessmentTarget) -> dict[str, Any]:
    s = want.setup
    limit = want.time_limit_minutes
    return {
        "title": want.name,
        "instructions": want.instructions_html,
        "points_possible": 100,
        "quiz_settings": {
            "has_time_limit": limit is not None,
            "session_time_limit_in_seconds": None if limit is None else limit * 60,
            "require_student_access_code": bool(s.access_code),
            "student_access_code": s.access_code or None,
            "shuffle_answers": s.shuffle_answers,
            "multiple_attempts": {"multiple_attempts_enabled": s.attempts > 1, "max_attempts": s.attempts},
        },
    } | _date_fields(want.dates)


def _content_type(name: str) -> str:
    return {"pdf": "application/pdf", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}.get(
        name.rsplit(".", 1)[-1].lower(), "application/octet-stream"
    )


__all__ = ["CanvasAdapter", "CanvasError", "CanvasSyncError"]
