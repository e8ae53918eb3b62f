"""The plain data the core computes over."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from fractions import Fraction
from typing import NamedTuple


class Delivery(str, Enum):
    """How an exam is sat in the LMS."""

    DROPBOX = "dropbox"  # an assignment with a file upload
    QUIZ = "quiz"  # Canvas Classic Quiz / Moodle quiz
    NEW_QUIZ = "new_quiz"  # Canvas New Quizzes

    @property
    def is_timed(self) -> bool:
        """Quizzes enforce a per-attempt time limit; a drop-box does not."""
        return self is not Delivery.DROPBOX


TWENTY_FOUR_HOURS = 1440


@dataclass(frozen=True, slots=True)
class ExamSetup:
    """What an exam setter chooses beyond timing: rubric fields for the exam page (seed 002
    §5.1) and the quiz settings an exam expects. Optional timetable columns fill it in."""

    module_code: str = ""
    division: str = ""
    programmes: str = ""
    level: str = ""
    session: str = ""
    instructions: str = ""
    paper_setter: str = ""
    access_code: str = ""
    attempts: int = 1
    shuffle_answers: bool = True
    hide_results_until_close: bool = True
    practice_days_before: int | None = None  # a practice exam this many days before (seed 001 §1.9)


DEFAULT_SETUP = ExamSetup()


@dataclass(frozen=True, slots=True)
class Exam:
    """One exam of the timetable. `start` is a UTC instant."""

    exam_id: str
    title: str
    delivery: Delivery
    start: datetime
    duration_minutes: int
    reading_minutes: int | None = None  # None: the policy's default
    upload_minutes: int | None = None  # None: the policy's default
    course: str | None = None
    setup: ExamSetup = DEFAULT_SETUP

    @property
    def is_24_hour(self) -> bool:
        return self.duration_minutes == TWENTY_FOUR_HOURS


@dataclass(frozen=True, slots=True)
class SupportPlan:
    """A student's exam adjustments: numbers only, never the reason for them."""

    student_id: str
    extra_time_percent: Fraction = Fraction(0)
    rest_break_minutes_per_hour: Fraction = Fraction(0)
    is_empty: bool = field(init=False, compare=False, repr=False)  # asked once per sitting

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_empty", not self.extra_time_percent and not self.rest_break_minutes_per_hour)


NO_PLAN = SupportPlan(student_id="")


@dataclass(frozen=True, slots=True)
class Sitting:
    """A candidate sitting an exam."""

    exam_id: str
    student_id: str


class Window(NamedTuple):
    """One candidate's computed times for one exam, with the rule ids that shaped them.

    A NamedTuple rather than a frozen dataclass: a period builds hundreds of thousands."""

    exam_id: str
    student_id: str
    opens_at: datetime
    due_at: datetime
    closes_at: datetime
    time_limit_minutes: int | None
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LintWarning:
    """Something in the timetable that the policy advises against; not an error."""

    rule: str
    message: str
    exam_id: str | None = None
    student_id: str | None = None


@dataclass(frozen=True, slots=True)
class ExamPeriod:
    """A validated timetable with its support plans and sittings."""

    exams: tuple[Exam, ...]
    plans: dict[str, SupportPlan]
    sittings: tuple[Sitting, ...]

    def exam(self, exam_id: str) -> Exam:
        for e in self.exams:
            if e.exam_id == exam_id:
                return e
        raise KeyError(exam_id)
