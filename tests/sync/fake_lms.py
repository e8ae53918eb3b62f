"""An in-memory LMS behind the `lms_bridge.lms.LmsAdapter` port, for testing the sync core.

It behaves like an LMS together with a straightforward adapter, no cleverer:

- every object gets an id when it is created; a create always creates (the LMS has no
  idempotency keys), so a stale plan applied twice makes duplicates, and only the engine's
  re-read before planning prevents them;
- `read_course` finds an exam's module, page, paper, assessment and practice assessment by
  the names of `lms_bridge.sync.naming` (title + "[exam_id]"), exactly as it created them;
- with `guarded=True` it is an adapter that guards its creates by a read (the port's "every
  write is idempotent or guarded by a read"), so re-applying a stale plan duplicates nothing;
- a created module is published by the adapter; `UPDATE_MODULE` repairs a module someone
  unpublished;
- writes resolve their object by name in the LMS's current state (a guarded write), never
  from the possibly stale `op.observed`; an override kept by id must still exist (404 else);
- `SET_OVERRIDES` applies the `OverridePlan`: delete, then shrink the kept ones, then update
  them in place, then create, checking after every step that no student is in two overrides
  of one assessment (Canvas answers 400 to that) and that every override student is enrolled;
- `SET_EXTRA_TIME` sets (never adds) minutes per student, 0 removing it; a drop-box has no
  time limit, so extra time on one is refused;
- `LINK_ITEMS` links the exam's page, paper, assessment and practice into the module as
  "kind:id" item refs (the ones not linked yet).

Reads and writes are counted. Faults can be injected: `fail` raises before the Nth matching
write (nothing happens in the LMS), `crash` raises after performing it (a timeout after the LMS
did the work). Drift helpers change the LMS by hand, as staff would.
"""

from __future__ import annotations

import re

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

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
    Student,
)
from lms_bridge.sync import naming
from lms_bridge.sync.operations import Action, Operation

SETTINGS = ("attempts", "access_code", "shuffle_answers", "hide_results_until_close")


class FakeLmsError(Exception):
    """Any error the fake LMS answers with."""


class NotFound(FakeLmsError):
    pass


class BadRequest(FakeLmsError):
    pass


class InjectedFailure(FakeLmsError):
    """A write refused before it happened (nothing changed in the LMS)."""


class InjectedCrash(TimeoutError):
    """A write that happened in the LMS, but whose answer never arrived."""


# -- the LMS's objects ---------------------------------------------------------------------------


@dataclass
class Module:
    id: str
    name: str
    published: bool
    items: list[str] = field(default_factory=list)


@dataclass
class Page:
    id: str
    title: str
    html: str


@dataclass
class File:
    id: str
    name: str
    content: bytes
    locked_until: datetime | None


@dataclass
class Override:
    id: str
    dates: Dates
    users: set[str]


@dataclass
class Assessment:
    id: str
    name: str
    delivery: Delivery
    dates: Dates
    time_limit_minutes: int | None
    published: bool
    settings: dict[str, object]
    instructions_html: str
    overrides: list[Override] = field(default_factory=list)
    extra_minutes: dict[str, int] = field(default_factory=dict)


@dataclass
class Course:
    ref: CourseRef
    roster: list[Student]
    modules: list[Module] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    files: list[File] = field(default_factory=list)
    assessments: list[Assessment] = field(default_factory=list)


@dataclass
class Fault:
    kind: str  # "fail" | "crash"
    nth: int  # 1-based, among the writes matching the filters
    action: Action | None = None
    course: CourseRef | None = None
    exam_id: str | None = None
    seen: int = 0
    fired: bool = False

    def matches(self, course: CourseRef, op: Operation) -> bool:
        return (
            (self.action is None or op.action is self.action)
            and (self.course is None or course == self.course)
            and (self.exam_id is None or op.exam_id == self.exam_id)
        )


@dataclass(frozen=True)
class Write:
    course: CourseRef
    action: Action
    exam_id: str
    role: str
    outcome: str  # "done" | "failed" | "crashed"


class FakeLms:
    """One LMS instance ("canvas" or "moodle") holding any number of courses."""

    def __init__(
        self,
        lms: str = "canvas",
        *,
        html_filter: Callable[[str], str] | None = None,
        adjust: Callable[[CourseTarget], CourseTarget] | None = None,
        guarded: bool = False,
    ) -> None:
        self.lms = lms
        # guarded: the adapter reads before it creates (a create of something that exists, or of
        # an override that already exists exactly, is skipped; a delete of a gone override too)
        self.guarded = guarded
        self.courses: dict[CourseRef, Course] = {}
        self.html_filter = html_filter  # the LMS rewrites page HTML on save (a sanitiser)
        self._adjust = adjust
        self._ids = itertools.count(1001)
        self.reads: Counter[str] = Counter()
        self.writes: list[Write] = []
        self.faults: list[Fault] = []
        self.read_errors: dict[tuple[str, CourseRef], Exception] = {}

    # -- set-up -------------------------------------------------------------------------------
    def add_course(self, ref: CourseRef | str, roster: Iterable[Student] | Iterable[tuple[str | None, str]]) -> Course:
        ref = CourseRef.parse(ref) if isinstance(ref, str) else ref
        assert ref.lms == self.lms, f"{ref} does not belong to this {self.lms} fake"
        students = [s if isinstance(s, Student) else Student(*s) for s in roster]
        course = self.courses[ref] = Course(ref, students)
        return course

    def course(self, ref: CourseRef | str) -> Course:
        ref = CourseRef.parse(ref) if isinstance(ref, str) else ref
        return self.courses[ref]

    def inject(
        self,
        kind: str,
        nth: int = 1,
        *,
        action: Action | None = None,
        course: CourseRef | str | None = None,
        exam_id: str | None = None,
    ) -> Fault:
        """`fail` the Nth matching write before it happens, or `crash` after it happened."""
        assert kind in ("fail", "crash")
        ref = CourseRef.parse(course) if isinstance(course, str) else course
        fault = Fault(kind, nth, action, ref, exam_id)
        self.faults.append(fault)
        return fault

    def fail_reads(self, course: CourseRef | str, what: str = "course", exc: Exception | None = None) -> None:
        """Make `read_roster` ("roster") or `read_course` ("course") of a course raise."""
        ref = CourseRef.parse(course) if isinstance(course, str) else course
        self.read_errors[(what, ref)] = exc or FakeLmsError(f"{self.lms} answered 503 reading {ref}")

    @property
    def write_count(self) -> int:
        return len(self.writes)

    @property
    def read_count(self) -> int:
        return sum(self.reads.values())

    # -- the port -----------------------------------------------------------------------------
    async def read_roster(self, course: CourseRef) -> tuple[Student, ...]:
        self.reads["roster"] += 1
        self._maybe_fail_read("roster", course)
        return tuple(self._course(course).roster)

    async def read_course(self, course: CourseRef, exams: Sequence[tuple[str, str]]) -> ObservedCourse:
        self.reads["course"] += 1
        self._maybe_fail_read("course", course)
        c = self._course(course)
        observed = {}
        for exam_id, title in exams:
            module = _named(c.modules, naming.module_name(title, exam_id))
            page_title, paper_prefix = naming.page_title(title, exam_id), naming.paper_name(title, exam_id, "")
            page = _one(c.pages, lambda p, want=page_title: _same(p.title, want))
            paper = _one(c.files, lambda f, tag=naming.tag(exam_id): f"{tag} paper" in f.name)
            exam = _named(c.assessments, naming.assessment_name(title, exam_id))
            practice = _named(c.assessments, naming.practice_name(title, exam_id))
            area = None
            if module is not None or page is not None or paper is not None:
                area = ObservedArea(
                    module_id=module.id if module else None,
                    module_name=module.name if module else None,
                    published=module.published if module else False,
                    page_id=page.id if page else None,
                    page_html=page.html if page else None,
                    paper_id=paper.id if paper else None,
                    paper_locked_until=paper.locked_until if paper else None,
                    item_refs=frozenset(module.items) if module else frozenset(),
                    page_title=page.title if page else None,
                    paper_name=paper.name if paper else None,
                )
            observed[exam_id] = ObservedExam(area, _observe(exam), _observe(practice))
        return ObservedCourse(course, tuple(c.roster), observed)

    def adjust_target(self, target: CourseTarget) -> CourseTarget:
        """Pure: the target as this LMS can hold it (its HTML sanitiser, or a test's own rule)."""
        if self.html_filter is not None:
            target = replace(
                target,
                exams=tuple(replace(e, area=replace(e.area, page_html=self.html_filter(e.area.page_html))) for e in target.exams),
            )
        return self._adjust(target) if self._adjust else target

    async def apply(self, course: CourseRef, operation: object) -> None:
        op = operation
        assert isinstance(op, Operation), op
        crash = False
        for fault in self.faults:
            if fault.fired or not fault.matches(course, op):
                continue
            fault.seen += 1
            if fault.seen == fault.nth:
                fault.fired = True
                if fault.kind == "fail":
                    self.writes.append(Write(course, op.action, op.exam_id, op.role, "failed"))
                    raise InjectedFailure(f"{self.lms} refused {op.action.value} (injected)")
                crash = True
        c = self._course(course)
        try:
            self._perform(c, op)
        except FakeLmsError:
            self.writes.append(Write(course, op.action, op.exam_id, op.role, "failed"))
            raise
        if crash:
            self.writes.append(Write(course, op.action, op.exam_id, op.role, "crashed"))
            raise InjectedCrash(f"{self.lms} timed out after {op.action.value} (injected)")
        self.writes.append(Write(course, op.action, op.exam_id, op.role, "done"))

    # -- carrying out an operation ------------------------------------------------------------
    def _perform(self, c: Course, op: Operation) -> None:
        t = op.target
        a = op.action
        if self.guarded and self._exists(c, op):
            return
        if a is Action.CREATE_MODULE:
            # the adapter creates it and publishes it (its items stay locked until their dates)
            c.modules.append(Module(self._id("m"), t.area.module_name, published=True))
        elif a is Action.UPDATE_MODULE:
            module = self._module(c, t)
            module.published, module.name = True, t.area.module_name
        elif a is Action.CREATE_PAGE:
            c.pages.append(Page(self._id("p"), t.area.page_title, self._html(t.area.page_html)))
        elif a is Action.UPDATE_PAGE:
            page = _one(c.pages, lambda p: _same(p.title, t.area.page_title))
            if page is None:
                raise NotFound(f"page {t.area.page_title!r}")
            page.html, page.title = self._html(t.area.page_html), t.area.page_title
        elif a is Action.UPLOAD_PAPER:
            if t.area.paper is None or t.area.paper_name is None:
                raise BadRequest("no paper to upload")
            tag = f"{naming.tag(op.exam_id)} paper"
            c.files[:] = [f for f in c.files if tag not in f.name]  # a corrected paper replaces the old
            c.files.append(File(self._id("f"), t.area.paper_name, t.area.paper, t.area.release_at))
        elif a is Action.LOCK_PAPER:
            paper = self._paper(c, t)
            paper.locked_until = t.area.release_at
        elif a is Action.CREATE_ASSESSMENT:
            want = _want(op)
            c.assessments.append(
                Assessment(
                    id=self._id("a"),
                    name=want.name,
                    delivery=want.delivery,
                    dates=want.dates,
                    time_limit_minutes=want.time_limit_minutes,
                    published=True,
                    settings=_settings(want),
                    instructions_html=want.instructions_html,
                )
            )
        elif a is Action.RETIRE_ASSESSMENT:
            old = op.observed.practice if op.role == "practice" else op.observed.assessment
            obj = _one(c.assessments, lambda x: old is not None and x.id == old.id)
            if obj is None:
                raise NotFound("assessment to retire")
            obj.name, obj.published = naming.retired_name(obj.name), False
        elif a is Action.UPDATE_ASSESSMENT:
            want = _want(op)
            obj = self._assessment(c, want)
            obj.name = want.name
            obj.dates = want.dates
            obj.time_limit_minutes = want.time_limit_minutes
            obj.published = True
            obj.settings = _settings(want)
        elif a is Action.SET_OVERRIDES:
            self._set_overrides(c, self._assessment(c, _want(op)), op)
        elif a is Action.SET_EXTRA_TIME:
            obj = self._assessment(c, _want(op))
            if not obj.delivery.is_timed:
                raise BadRequest(f"{obj.name!r} is a drop-box: it has no time limit to extend")
            enrolled = {s.lms_user_id for s in c.roster}
            for user, minutes in op.extra_minutes.items():
                if user not in enrolled:
                    raise BadRequest(f"user {user} is not enrolled")
                if minutes < 0:
                    raise BadRequest("extra time cannot be negative")
                if minutes:
                    obj.extra_minutes[user] = minutes
                else:
                    obj.extra_minutes.pop(user, None)
        elif a is Action.LINK_ITEMS:
            module = self._module(c, t)
            for ref in self._item_refs(c, t):
                if ref not in module.items:
                    module.items.append(ref)
        else:  # pragma: no cover - a new Action the fake does not know yet
            raise BadRequest(f"unsupported action {a!r}")

    def _set_overrides(self, c: Course, obj: Assessment, op: Operation) -> None:
        plan = op.overrides
        if plan is None:
            raise BadRequest("set overrides without an override plan")
        by_id = {o.id: o for o in obj.overrides}
        for observed, _ in plan.keep:
            if observed.id not in by_id:
                raise NotFound(f"override {observed.id} of {obj.name!r}")
        for observed in plan.delete:
            if observed.id not in by_id and self.guarded:
                continue
            if observed.id not in by_id:
                raise NotFound(f"override {observed.id} of {obj.name!r}")
            obj.overrides.remove(by_id[observed.id])
        self._check_overrides(c, obj)
        for observed, target in plan.keep:  # shrink first, so students can move between them
            by_id[observed.id].users &= set(target.lms_user_ids)
            self._check_overrides(c, obj)
        for observed, target in plan.keep:
            o = by_id[observed.id]
            o.users = set(target.lms_user_ids)
            o.dates = target.dates
            self._check_overrides(c, obj)
        for target in plan.create:
            if self.guarded and any(o.dates == target.dates and o.users == target.lms_user_ids for o in obj.overrides):
                continue
            obj.overrides.append(Override(self._id("o"), target.dates, set(target.lms_user_ids)))
            self._check_overrides(c, obj)

    @staticmethod
    def _check_overrides(c: Course, obj: Assessment) -> None:
        enrolled = {s.lms_user_id for s in c.roster}
        seen: set[str] = set()
        for o in obj.overrides:
            if not o.users:
                raise BadRequest(f"override {o.id} of {obj.name!r} has no students")
            if o.users - enrolled:
                raise BadRequest(f"override {o.id}: {len(o.users - enrolled)} students are not enrolled")
            twice = seen & o.users
            if twice:
                raise BadRequest(f"{len(twice)} students already have an override on {obj.name!r}")
            seen |= o.users

    def _exists(self, c: Course, op: Operation) -> bool:
        t = op.target
        if op.action is Action.CREATE_MODULE:
            return _one(c.modules, lambda m: _same(m.name, t.area.module_name)) is not None
        if op.action is Action.CREATE_PAGE:
            return _one(c.pages, lambda p: _same(p.title, t.area.page_title)) is not None
        if op.action is Action.UPLOAD_PAPER:
            return _one(c.files, lambda f: _same(f.name, t.area.paper_name)) is not None
        if op.action is Action.CREATE_ASSESSMENT:
            return _one(c.assessments, lambda x: _same(x.name, _want(op).name)) is not None
        return False

    def _item_refs(self, c: Course, t: ExamTarget) -> list[str]:
        refs = []
        page = _one(c.pages, lambda p: _same(p.title, t.area.page_title))
        if page is not None:
            refs.append(f"page:{page.id}")
        if t.area.paper_name is not None:
            paper = _one(c.files, lambda f: _same(f.name, t.area.paper_name))
            if paper is not None:
                refs.append(f"paper:{paper.id}")
        exam = _one(c.assessments, lambda a: _same(a.name, t.assessment.name))
        if exam is not None:
            refs.append(f"assessment:{exam.id}")
        if t.practice is not None:
            practice = _one(c.assessments, lambda a: _same(a.name, t.practice.name))
            if practice is not None:
                refs.append(f"practice:{practice.id}")
        return refs

    # -- lookups ------------------------------------------------------------------------------
    def _course(self, ref: CourseRef) -> Course:
        try:
            return self.courses[ref]
        except KeyError:
            raise NotFound(f"{self.lms} course {ref.id} does not exist") from None

    def _module(self, c: Course, t: ExamTarget) -> Module:
        module = _one(c.modules, lambda m: _same(m.name, t.area.module_name))
        if module is None:
            raise NotFound(f"module {t.area.module_name!r}")
        return module

    def _paper(self, c: Course, t: ExamTarget) -> File:
        paper = _one(c.files, lambda f: _same(f.name, t.area.paper_name))
        if paper is None:
            raise NotFound(f"file {t.area.paper_name!r}")
        return paper

    @staticmethod
    def _assessment(c: Course, want: AssessmentTarget) -> Assessment:
        obj = _one(c.assessments, lambda a: _same(a.name, want.name))
        if obj is None:
            raise NotFound(f"assessment {want.name!r}")
        return obj

    def _maybe_fail_read(self, what: str, course: CourseRef) -> None:
        exc = self.read_errors.get((what, course))
        if exc is not None:
            raise exc

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids)}"

    def _html(self, html: str) -> str:
        return self.html_filter(html) if self.html_filter else html

    # -- inspection ---------------------------------------------------------------------------
    def tagged(self, course: CourseRef | str, exam_id: str) -> dict[str, int]:
        """How many objects of each kind carry the exam's tag (duplicates show as counts > 1)."""
        c = self.course(course)
        tag = naming.tag(exam_id)
        return {
            "module": sum(tag in m.name for m in c.modules),
            "page": sum(tag in p.title for p in c.pages),
            "paper": sum(tag in f.name for f in c.files),
            "assessment": sum(tag in a.name and not naming.is_practice(a.name) for a in c.assessments),
            "practice": sum(tag in a.name and naming.is_practice(a.name) for a in c.assessments),
        }

    def assessment(self, course: CourseRef | str, exam_id: str, role: str = "exam") -> Assessment:
        tag = naming.tag(exam_id)
        found = [
            a
            for a in self.course(course).assessments
            if tag in a.name and naming.is_practice(a.name) == (role == "practice")
        ]
        assert len(found) == 1, f"{len(found)} {role} assessments for {exam_id}"
        return found[0]

    def module(self, course: CourseRef | str, exam_id: str) -> Module:
        found = [m for m in self.course(course).modules if naming.tag(exam_id) in m.name]
        assert len(found) == 1, f"{len(found)} modules for {exam_id}"
        return found[0]

    def effective_dates(self, course: CourseRef | str, exam_id: str, lms_user_id: str, role: str = "exam") -> Dates:
        """The dates one student sees: their override's, else the assessment's."""
        a = self.assessment(course, exam_id, role)
        for o in a.overrides:
            if lms_user_id in o.users:
                return o.dates
        return a.dates

    def effective_time_limit(self, course: CourseRef | str, exam_id: str, lms_user_id: str) -> int | None:
        a = self.assessment(course, exam_id)
        if a.time_limit_minutes is None:
            return None
        return a.time_limit_minutes + a.extra_minutes.get(lms_user_id, 0)

    # -- drift, by hand -----------------------------------------------------------------------
    def set_due(self, course: CourseRef | str, exam_id: str, due_at: datetime, role: str = "exam") -> None:
        a = self.assessment(course, exam_id, role)
        a.dates = Dates(a.dates.opens_at, due_at, a.dates.closes_at)

    def delete_override(self, course: CourseRef | str, exam_id: str, lms_user_id: str, role: str = "exam") -> None:
        a = self.assessment(course, exam_id, role)
        (o,) = [o for o in a.overrides if lms_user_id in o.users]
        a.overrides.remove(o)

    def unpublish_module(self, course: CourseRef | str, exam_id: str) -> None:
        self.module(course, exam_id).published = False

    def remove_extra_time(self, course: CourseRef | str, exam_id: str, lms_user_id: str, role: str = "exam") -> None:
        a = self.assessment(course, exam_id, role)
        del a.extra_minutes[lms_user_id]

    def delete_module(self, course: CourseRef | str, exam_id: str) -> None:
        """Delete the module only: like Canvas and Moodle, its page, file and quiz stay."""
        c = self.course(course)
        c.modules.remove(self.module(course, exam_id))


def _one(items: Iterable, match: Callable[[object], bool]):
    return next((x for x in items if match(x)), None)


def _named(items: Iterable, name: str):  # the first object that is the same exam object
    return next((x for x in items if _same(x.name, name)), None)


def _key(name: str) -> tuple[str, str, str]:
    """(kind prefix, [exam_id] tag, what follows the tag): an exam object's identity, which a
    change of title leaves alone (as the Canvas adapter finds objects)."""
    tag = re.search(r"\[[^\]]*\]", name)
    if tag is None:
        return ("", name, "")
    prefix = next((p for p in ("Exam information: ", "Exam: ", "Practice: ", "Replaced: ") if name.startswith(p)), "")
    return (prefix, tag.group(0), name[tag.end():])


def _same(name: str, want: str | None) -> bool:
    return want is not None and _key(name) == _key(want)


def _want(op: Operation) -> AssessmentTarget:
    want = op.target.practice if op.role == "practice" else op.target.assessment
    if want is None:
        raise BadRequest(f"{op.action.value}: the exam has no {op.role} assessment")
    return want


def _settings(want: AssessmentTarget) -> dict[str, object]:
    if not want.delivery.is_timed:
        return {}  # a drop-box has none of the quiz settings
    return {key: getattr(want.setup, key) for key in SETTINGS}


def _observe(a: Assessment | None) -> ObservedAssessment | None:
    if a is None:
        return None
    return ObservedAssessment(
        id=a.id,
        name=a.name,
        delivery=a.delivery,
        dates=a.dates,
        time_limit_minutes=a.time_limit_minutes,
        published=a.published,
        settings=dict(a.settings),
        overrides=tuple(ObservedOverride(o.id, o.dates, frozenset(o.users)) for o in a.overrides),
        extra_minutes=dict(a.extra_minutes),
    )
