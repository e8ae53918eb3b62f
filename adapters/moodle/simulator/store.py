"""The tables, the one lock, ids and lookups, and the course structure (sections and modules)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from typing import Any

from .config import DEFAULT_CAPABILITIES, SimulatorConfig
from .errors import missing_record
from .records import (
    Account,
    Assign,
    AssignOverride,
    Course,
    CourseModule,
    DraftArea,
    Enrolment,
    Forum,
    ForumDiscussion,
    Group,
    Quiz,
    QuizOverride,
    Resource,
    Section,
    User,
    UserFlags,
)

# Each table counts from its own base, so an id of the wrong kind (a cmid sent as a quiz id, a
# section number as a section id) is an unknown record instead of silently another object.
# `use_plain_ids()` makes every table count from 1, as a fresh Moodle does (the recorded site).
DISTINCT_ID_BASES = {
    "course": 2, "user": 100, "section": 1000, "cm": 2000, "assign": 3000, "quiz": 4000, "forum": 5000,
    "resource": 6000, "quiz_override": 7000, "assign_override": 8000, "group": 9000, "user_flags": 10000,
    "context": 20000, "forum_discussion": 14000, "forum_post": 16000,
}
SERVICE_USER_ID = 3
MODULE_NAMES = {"assign": ("Assignment", "Assignments", "assessment"), "quiz": ("Quiz", "Quizzes", "assessment"),
                "forum": ("Forum", "Forums", "collaboration"), "resource": ("File", "Files", "content")}


class Store:
    """State shared by the operation mixins. Every public operation holds `lock` (re-entrant)."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.lock = threading.RLock()
        self.site_name = self.config.site_name
        self._bases = dict(DISTINCT_ID_BASES)
        self._last_ids: dict[str, int] = {}
        self._rng = random.Random(self.config.seed)
        self.users: dict[int, User] = {}
        self.accounts: dict[str, Account] = {}
        self.courses: dict[int, Course] = {}
        self.sections: dict[int, Section] = {}
        self.cms: dict[int, CourseModule] = {}
        # Enrolments in the order made, indexed by (course, user); a site holds tens of thousands
        # and rosters look each one up per user, so scanning a list made rosters quadratic.
        self._enrolments: dict[tuple[int, int], Enrolment] = {}
        self._user_courses: dict[int, dict[int, Enrolment]] = {}
        self.groups: dict[int, Group] = {}
        self.assigns: dict[int, Assign] = {}
        self.quizzes: dict[int, Quiz] = {}
        self.forums: dict[int, Forum] = {}
        self.forum_discussions: dict[int, ForumDiscussion] = {}
        self._forum_posts: set[int] = set()  # the first posts' ids (replies are not modelled)
        self.resources: dict[int, Resource] = {}
        self.quiz_override_rows: dict[int, QuizOverride] = {}
        self.assign_override_rows: dict[int, AssignOverride] = {}
        self.user_flag_rows: dict[int, UserFlags] = {}
        self.drafts: dict[int, DraftArea] = {}
        self.user_contexts: dict[int, int] = {}
        self._contexts: set[int] = set(range(1, 6))
        for uid, username, first, last in ((1, "guest", "Guest user", " "), (2, "admin", "Admin", "User"),
                                           (SERVICE_USER_ID, "wsservice", "Integration", "Service")):
            self.users[uid] = User(uid, username, first, last, f"{username}@example.com")
        self.accounts[self.config.token] = Account(self.config.token, SERVICE_USER_ID,
                                                   frozenset(self.config.capabilities or DEFAULT_CAPABILITIES))
        for token, caps in self.config.extra_tokens.items():
            self.add_token(token, caps)

    # -- ids and time ----------------------------------------------------------------------------

    def use_plain_ids(self) -> None:
        """Every table counts from 1 from now on (after what it holds), as a fresh Moodle does."""
        with self.lock:
            self._bases = dict.fromkeys(self._bases, 1)

    def _table(self, kind: str) -> Any:
        return {"course": self.courses, "user": self.users, "section": self.sections, "cm": self.cms,
                "assign": self.assigns, "quiz": self.quizzes, "forum": self.forums, "resource": self.resources,
                "quiz_override": self.quiz_override_rows, "assign_override": self.assign_override_rows,
                "group": self.groups, "user_flags": self.user_flag_rows, "context": self._contexts,
                "forum_discussion": self.forum_discussions, "forum_post": self._forum_posts}[kind]

    def _new_id(self, kind: str, explicit: int | None = None) -> int:
        """The next id of a table: like a database sequence, a deleted row's id is never reused."""
        table = self._table(kind)
        if explicit is not None:
            if explicit in table:
                raise ValueError(f"{kind} id {explicit} is taken")
            new = explicit
        else:
            new = max(self._bases[kind], self._last_ids.get(kind, 0) + 1, max(table, default=0) + 1)
        self._last_ids[kind] = max(self._last_ids.get(kind, 0), new)
        return new

    def _new_context(self, explicit: int | None = None) -> int:
        cid = self._new_id("context", explicit)
        self._contexts.add(cid)
        return cid

    def now(self) -> int:
        return int(self.config.clock() if self.config.clock else time.time())

    def new_draft_itemid(self) -> int:
        with self.lock:
            while True:
                itemid = self._rng.randint(100_000_000, 999_999_999)
                if itemid not in self.drafts:
                    return itemid

    # -- accounts ----------------------------------------------------------------------------------

    def add_token(self, token: str, capabilities: frozenset[str] | set[str], userid: int | None = None) -> Account:
        """Another token: its own service user (created when `userid` is None) with these capabilities."""
        with self.lock:
            if userid is None:
                uid = self._new_id("user")
                self.users[uid] = User(uid, f"wsuser{uid}", "Limited", f"Service {uid}", f"wsuser{uid}@example.com")
                userid = uid
            account = Account(token, userid, frozenset(capabilities))
            self.accounts[token] = account
            return account

    def grant(self, token: str, *capabilities: str) -> None:
        with self.lock:
            account = self.accounts[token]
            account.capabilities = account.capabilities | set(capabilities)

    def revoke(self, token: str, *capabilities: str) -> None:
        with self.lock:
            account = self.accounts[token]
            account.capabilities = account.capabilities - set(capabilities)

    # -- lookups (MUST_EXIST as Moodle: a missing row is dml_missing_record_exception) -------------

    def course(self, courseid: int) -> Course:
        found = self.courses.get(courseid)
        if found is None:
            raise missing_record("course", "SELECT * FROM {course} WHERE id = ?", (courseid,))
        return found

    def user(self, userid: int) -> User:
        found = self.users.get(userid)
        if found is None or found.deleted:
            raise missing_record("user", "SELECT * FROM {user} WHERE id = ?", (userid,))
        return found

    def user_by_idnumber(self, idnumber: str) -> User | None:
        return next((u for u in self.users.values() if u.idnumber == idnumber and not u.deleted), None)

    def cm(self, cmid: int) -> CourseModule:
        found = self.cms.get(cmid)
        if found is None:
            raise missing_record("course_modules", "SELECT * FROM {course_modules} WHERE id = ?", (cmid,))
        return found

    def section(self, sectionid: int) -> Section:
        found = self.sections.get(sectionid)
        if found is None:
            raise missing_record("course_sections", "SELECT * FROM {course_sections} WHERE id = ?", (sectionid,))
        return found

    def assign(self, assignid: int) -> Assign:
        found = self.assigns.get(assignid)
        if found is None:
            raise missing_record("assign", "SELECT * FROM {assign} WHERE id = ?", (assignid,))
        return found

    def quiz(self, quizid: int) -> Quiz:
        found = self.quizzes.get(quizid)
        if found is None:
            raise missing_record("quiz", "SELECT * FROM {quiz} WHERE id = ?", (quizid,))
        return found

    def forum(self, forumid: int) -> Forum:
        found = self.forums.get(forumid)
        if found is None:
            raise missing_record("forum", "SELECT * FROM {forum} WHERE id = ?", (forumid,))
        return found

    def discussions(self, forumid: int) -> list[ForumDiscussion]:
        return sorted((d for d in self.forum_discussions.values() if d.forum == forumid), key=lambda d: d.id)

    def group(self, groupid: int) -> Group | None:
        return self.groups.get(groupid)

    def instance(self, cm: CourseModule) -> Any:
        table = {"assign": self.assigns, "quiz": self.quizzes, "forum": self.forums, "resource": self.resources}
        return table[cm.modname][cm.instance]

    def cm_of(self, modname: str, instance: int) -> CourseModule:
        found = next((c for c in self.cms.values() if c.modname == modname and c.instance == instance), None)
        if found is None:
            raise missing_record("course_modules")
        return found

    def course_sections(self, courseid: int) -> list[Section]:
        return sorted((s for s in self.sections.values() if s.course == courseid), key=lambda s: s.section)

    def section_by_number(self, courseid: int, number: int) -> Section | None:
        return next((s for s in self.sections.values() if s.course == courseid and s.section == number), None)

    def course_modules(self, courseid: int) -> list[CourseModule]:
        """Every module of the course in page order (section by section, sequence order)."""
        return [self.cms[cmid] for section in self.course_sections(courseid) for cmid in section.sequence
                if cmid in self.cms]

    def find_module(self, courseid: int, *, idnumber: str | None = None, name: str | None = None,
                    modname: str | None = None) -> CourseModule | None:
        with self.lock:
            for cm in self.course_modules(courseid):
                if modname is not None and cm.modname != modname:
                    continue
                if idnumber is not None and cm.idnumber != idnumber:
                    continue
                if name is not None and self.instance(cm).name != name:
                    continue
                return cm
            return None

    @property
    def enrolments(self) -> list[Enrolment]:
        return list(self._enrolments.values())

    def add_enrolment(self, enrolment: Enrolment) -> None:
        self._enrolments[(enrolment.course, enrolment.userid)] = enrolment
        self._user_courses.setdefault(enrolment.userid, {})[enrolment.course] = enrolment

    def remove_enrolment(self, courseid: int, userid: int) -> None:
        self._enrolments.pop((courseid, userid), None)
        self._user_courses.get(userid, {}).pop(courseid, None)

    def enrolment(self, courseid: int, userid: int) -> Enrolment | None:
        return self._enrolments.get((courseid, userid))

    def user_enrolments(self, userid: int) -> list[Enrolment]:
        return list(self._user_courses.get(userid, {}).values())

    def course_enrolments(self, courseid: int) -> list[Enrolment]:
        return [e for e in self._enrolments.values() if e.course == courseid]

    def is_enrolled(self, courseid: int, userid: int, *, active_only: bool = False) -> bool:
        found = self.enrolment(courseid, userid)
        return found is not None and (not active_only or found.status == "active")

    def course_groups(self, courseid: int) -> list[Group]:
        return sorted((g for g in self.groups.values() if g.courseid == courseid), key=lambda g: g.id)

    def user_groups(self, courseid: int, userid: int) -> list[Group]:
        return [g for g in self.course_groups(courseid) if userid in g.members]

    def quiz_overrides(self, quizid: int) -> list[QuizOverride]:
        return sorted((o for o in self.quiz_override_rows.values() if o.quiz == quizid), key=lambda o: o.id)

    def assign_overrides(self, assignid: int) -> list[AssignOverride]:
        return sorted((o for o in self.assign_override_rows.values() if o.assignid == assignid), key=lambda o: o.id)

    def user_flags(self, assignid: int) -> list[UserFlags]:
        return sorted((f for f in self.user_flag_rows.values() if f.assignment == assignid), key=lambda f: f.id)

    def user_flag(self, assignid: int, userid: int) -> UserFlags | None:
        return next((f for f in self.user_flag_rows.values() if f.assignment == assignid and f.userid == userid), None)

    def iter_students(self, courseid: int) -> Iterator[User]:
        for e in self.course_enrolments(courseid):
            if e.role == "student":
                yield self.users[e.userid]

    # -- course structure --------------------------------------------------------------------------

    def touch(self, course: Course) -> None:
        """A structural change: the course cache revision moves on (statekey, cacherev)."""
        course.cacherev = max(self.now(), course.cacherev + 1)

    def _insert_section(self, course: Course, number: int, *, name: str | None = None, sectionid: int | None = None,
                        visible: int = 1, summary: str = "") -> Section:
        for other in self.course_sections(course.id):
            if other.section >= number:
                other.section += 1
        section = Section(self._new_id("section", sectionid), course.id, number, name=name, visible=visible,
                          summary=summary, timemodified=self.now())
        self.sections[section.id] = section
        self.touch(course)
        return section

    def append_section(self, courseid: int, *, name: str | None = None, sectionid: int | None = None,
                       visible: int = 1, summary: str = "") -> Section:
        with self.lock:
            course = self.course(courseid)
            number = len(self.course_sections(courseid))
            return self._insert_section(course, number, name=name, sectionid=sectionid, visible=visible, summary=summary)

    def add_section_after(self, courseid: int, after: Section | None) -> Section:
        """core_courseformat section_add: after `after` (renumbering the rest), else at the end."""
        with self.lock:
            course = self.course(courseid)
            if after is None:
                return self.append_section(courseid)
            return self._insert_section(course, after.section + 1)

    def ensure_section(self, courseid: int, number: int) -> Section:
        """course_create_sections_if_missing(): every number up to `number` exists afterwards."""
        with self.lock:
            while self.section_by_number(courseid, number) is None:
                self.append_section(courseid)
            found = self.section_by_number(courseid, number)
            assert found is not None
            return found

    def delete_section(self, sectionid: int) -> None:
        with self.lock:
            section = self.section(sectionid)
            for cmid in list(section.sequence):
                self.delete_module(cmid)
            del self.sections[sectionid]
            for other in self.course_sections(section.course):
                if other.section > section.section:
                    other.section -= 1
            self.touch(self.course(section.course))

    def set_section_visible(self, sectionid: int, visible: bool) -> None:
        """set_section_visible(): hiding a section hides its modules, showing restores what they were."""
        with self.lock:
            section = self.section(sectionid)
            if bool(section.visible) == visible:
                return
            section.visible = int(visible)
            for cmid in section.sequence:
                cm = self.cms[cmid]
                if visible:
                    cm.visible = cm.visibleold
                else:
                    cm.visibleold = cm.visible
                    cm.visible = 0
            self.touch(self.course(section.course))

    def add_module(self, courseid: int, modname: str, instance: int, section_number: int, *, idnumber: str = "",
                   visible: int = 1, cmid: int | None = None, contextid: int | None = None) -> CourseModule:
        with self.lock:
            course = self.course(courseid)
            section = self.ensure_section(courseid, section_number)
            cm = CourseModule(self._new_id("cm", cmid), courseid, modname, instance, section.id, idnumber=idnumber,
                              visible=int(visible) if section.visible else 0, visibleold=int(visible),
                              contextid=self._new_context(contextid), added=self.now())
            self.cms[cm.id] = cm
            section.sequence.append(cm.id)
            self.touch(course)
            return cm

    def move_module(self, cmid: int, section_number: int, before_cmid: int | None = None) -> None:
        with self.lock:
            cm = self.cm(cmid)
            self.section(cm.section).sequence.remove(cmid)
            target = self.ensure_section(cm.course, section_number)
            if before_cmid is not None and before_cmid in target.sequence:
                target.sequence.insert(target.sequence.index(before_cmid), cmid)
            else:
                target.sequence.append(cmid)
            cm.section = target.id
            self.touch(self.course(cm.course))

    def delete_module(self, cmid: int) -> None:
        """course_delete_module(): the module, its instance and what hangs off it (overrides, flags)."""
        with self.lock:
            cm = self.cm(cmid)
            section = self.sections.get(cm.section)
            if section and cmid in section.sequence:
                section.sequence.remove(cmid)
            del self.cms[cmid]
            if cm.modname == "quiz":
                self.quizzes.pop(cm.instance, None)
                for row in self.quiz_overrides(cm.instance):
                    del self.quiz_override_rows[row.id]
            elif cm.modname == "assign":
                self.assigns.pop(cm.instance, None)
                for row in self.assign_overrides(cm.instance):
                    del self.assign_override_rows[row.id]
                for flags in self.user_flags(cm.instance):
                    del self.user_flag_rows[flags.id]
            elif cm.modname == "forum":
                self.forums.pop(cm.instance, None)
                for discussion in self.discussions(cm.instance):
                    del self.forum_discussions[discussion.id]
                    self._forum_posts.discard(discussion.firstpost)
            elif cm.modname == "resource":
                self.resources.pop(cm.instance, None)
            self.touch(self.course(cm.course))

    def section_name(self, section: Section) -> str:
        """get_section_name() for format_topics."""
        if section.name:
            return section.name
        return "General" if section.section == 0 else "New section"
