"""The port every LMS adapter implements, and the state types it speaks in.

The sync engine works in these terms only: what an exam should look like in a course
(`ExamTarget`), what the course holds now (`ObservedCourse`), and the changes between them
(`lms_bridge.sync.operations`). Adapters translate to Canvas or Moodle calls; they depend
on this module, never the reverse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from .domain.model import Delivery, ExamSetup


@dataclass(frozen=True, slots=True)
class CourseRef:
    """`canvas:123`, `canvas:sis_course_id:ABC` or `moodle:7`, as the timetable names a course."""

    lms: str  # "canvas" | "moodle"
    id: str  # the LMS's course id, or "sis_course_id:<id>"

    @classmethod
    def parse(cls, text: str) -> CourseRef:
        lms, _, ident = text.partition(":")
        if lms not in ("canvas", "moodle") or not ident:
            raise ValueError(f"{text!r} is not canvas:<id>, canvas:sis_course_id:<id> or moodle:<id>")
        return cls(lms, ident)

    def __str__(self) -> str:
        return f"{self.lms}:{self.id}"


@dataclass(frozen=True, slots=True)
class Dates:
    """An LMS object's availability: opens (unlock), due, and the hard close (lock)."""

    opens_at: datetime | None
    due_at: datetime | None
    closes_at: datetime | None


@dataclass(frozen=True, slots=True)
class Student:
    """A student on a course roster: the institution's id (SIS id / idnumber) and the LMS's."""

    student_id: str | None  # None when the LMS does not show one: no plan can apply
    lms_user_id: str


# -- what lms_bridge wants ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OverrideTarget:
    """Students who share one window that differs from the exam's standard one."""

    dates: Dates
    lms_user_ids: frozenset[str]
    rules: tuple[str, ...]  # why these students differ (never the plan's numbers)


@dataclass(frozen=True, slots=True)
class AssessmentTarget:
    """The drop-box or quiz: its standard window and settings, and everyone who differs."""

    name: str
    delivery: Delivery
    dates: Dates
    time_limit_minutes: int | None
    setup: ExamSetup
    instructions_html: str
    overrides: tuple[OverrideTarget, ...]
    extra_minutes: Mapping[str, int]  # lms user id -> minutes beyond the standard time limit


@dataclass(frozen=True, slots=True)
class AreaTarget:
    """The exam area: a module holding the information page, the paper and the assessment."""

    module_name: str
    page_title: str
    page_html: str
    paper_name: str | None  # None: no paper supplied for this exam
    paper: bytes | None
    release_at: datetime  # the paper stays locked until then


@dataclass(frozen=True, slots=True)
class ExamTarget:
    exam_id: str
    title: str
    area: AreaTarget
    assessment: AssessmentTarget
    practice: AssessmentTarget | None = None


@dataclass(frozen=True, slots=True)
class CourseTarget:
    course: CourseRef
    exams: tuple[ExamTarget, ...]


# -- what the LMS holds ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ObservedOverride:
    id: str
    dates: Dates
    lms_user_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class ObservedAssessment:
    id: str
    name: str
    delivery: Delivery
    dates: Dates
    time_limit_minutes: int | None
    published: bool
    settings: Mapping[str, object]  # the adapter's reading of the ExamSetup fields it manages
    overrides: tuple[ObservedOverride, ...]
    extra_minutes: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class ObservedArea:
    """What the course holds of an exam's area. The module may be gone (deleted by hand)
    while its page and paper remain: they are reused, not made again."""

    module_id: str | None
    module_name: str | None
    published: bool
    page_id: str | None
    page_html: str | None
    paper_id: str | None
    paper_locked_until: datetime | None
    item_refs: frozenset[str] = frozenset()  # what the module links to ("page:<id>", "assessment:<id>", ...)
    page_title: str | None = None
    paper_name: str | None = None


@dataclass(frozen=True, slots=True)
class ObservedExam:
    area: ObservedArea | None
    assessment: ObservedAssessment | None
    practice: ObservedAssessment | None = None


@dataclass(frozen=True, slots=True)
class ObservedCourse:
    course: CourseRef
    roster: tuple[Student, ...]
    exams: Mapping[str, ObservedExam] = field(default_factory=dict)  # by exam id


class LmsAdapter(Protocol):
    """One LMS. Reads are cheap and frequent; every write is idempotent or guarded by a read.

    Two optional hooks, looked up by the engine when present: `adjust_target(target)` turns a
    course's target into what this LMS can hold (pure; e.g. Canvas's "fancy midnight"), and
    `by_hand(course, operations) -> (operations, manual steps)` takes out what this LMS's API
    cannot do and returns it as `lms_bridge.sync.operations.ManualStep`s for people.
    """

    async def read_roster(self, course: CourseRef) -> tuple[Student, ...]: ...

    async def read_course(self, course: CourseRef, exams: Sequence[tuple[str, str]]) -> ObservedCourse:
        """The course and what it holds of these (exam id, title) pairs."""
        ...

    async def apply(self, course: CourseRef, operation: object) -> None:
        """Carry out one operation of `lms_bridge.sync.operations`."""
        ...
