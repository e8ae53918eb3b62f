"""The changes that converge a course: each names what it touches, what differs, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ..lms import ExamTarget, ObservedExam, ObservedOverride, OverrideTarget


class Action(str, Enum):
    CREATE_MODULE = "create module"
    UPDATE_MODULE = "update module"
    CREATE_PAGE = "create page"
    UPDATE_PAGE = "update page"
    UPLOAD_PAPER = "upload paper"
    LOCK_PAPER = "lock paper"
    RETIRE_ASSESSMENT = "retire assessment"
    CREATE_ASSESSMENT = "create assessment"
    UPDATE_ASSESSMENT = "update assessment"
    SET_OVERRIDES = "set overrides"
    SET_EXTRA_TIME = "set extra time"
    LINK_ITEMS = "link items"


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    before: object
    after: object


@dataclass(frozen=True, slots=True)
class OverridePlan:
    """Overrides to keep the LMS's ids where possible: update in place, create, delete."""

    keep: tuple[tuple[ObservedOverride, OverrideTarget], ...]  # unchanged, or updated in place
    create: tuple[OverrideTarget, ...]
    delete: tuple[ObservedOverride, ...]

    @property
    def desired(self) -> tuple[tuple[str | None, OverrideTarget], ...]:
        """Every override the object should end with, with the id to update where there is one."""
        return tuple((o.id, t) for o, t in self.keep) + tuple((None, t) for t in self.create)


@dataclass(frozen=True, slots=True)
class Operation:
    exam_id: str
    action: Action
    role: str  # "exam" or "practice": which assessment of the exam it concerns
    subject: str  # what it touches, in words
    reasons: tuple[str, ...]  # "missing", "drift", or the rule ids behind a change
    target: ExamTarget
    observed: ObservedExam
    changes: tuple[Change, ...] = ()
    overrides: OverridePlan | None = None
    extra_minutes: dict[str, int] = field(default_factory=dict)  # lms user id -> minutes to set

    @property
    def drift(self) -> bool:
        """It repairs an object that exists but no longer matches (changed in the LMS by hand,
        or by a change of timetable, plan or roster since the last apply)."""
        return "missing" not in self.reasons


@dataclass(frozen=True, slots=True)
class ManualStep:
    """A change the LMS's web services cannot make, which a person must make in the LMS.

    An adapter that cannot carry out part of a plan (Moodle without the companion plugin cannot
    create a quiz or write its dates) hands it back as one of these from its optional
    ``by_hand(course, operations)`` hook. Each names precisely what to set, and where; the
    next plan reads the LMS again and lists what is still not done."""

    exam_id: str
    subject: str  # what it concerns: "quiz 'Statistics Quiz [E2]'"
    instruction: str  # exactly what to do, with the values to set
    reason: str  # why lms_bridge cannot do it itself
    detail: str = ""  # content to paste, if any (the exam information HTML)
