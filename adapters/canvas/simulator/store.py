"""The tables, the one lock and the lookups every part of the simulated Canvas shares."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from . import dates
from .config import SimulatorConfig
from .errors import not_found
from .records import (
    STUDENT,
    Accommodation,
    Assignment,
    AssignmentGroup,
    Course,
    DiscussionTopic,
    Enrollment,
    File,
    Module,
    ModuleItem,
    Override,
    Page,
    Quiz,
    QuizSubmission,
    Section,
    User,
)

# Each kind counts from its own base, so a client that sends a quiz id where an assignment id
# belongs gets a 404 instead of silently hitting another object.
_ID_BASES = {
    "course": 1000,
    "user": 1_000_000,
    "enrollment": 2_000_000,
    "section": 3_000_000,
    "assignment_group": 4_000_000,
    "assignment": 5_000_000,
    "override": 6_000_000,
    "quiz": 7_000_000,
    "module": 8_000_000,
    "module_item": 9_000_000,
    "page": 10_000_000,
    "file": 11_000_000,
    "topic": 12_000_000,
    "quiz_submission": 13_000_000,
    "folder": 14_000_000,
}


class Store:
    """State shared by the operation mixins. Every public operation holds `lock` (re-entrant)."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.lock = threading.RLock()
        self._ids = {kind: itertools.count(base + 1) for kind, base in _ID_BASES.items()}
        self.courses: dict[int, Course] = {}
        self.sections: dict[int, Section] = {}
        self.users: dict[int, User] = {}
        self.enrollments: dict[int, Enrollment] = {}
        self.assignment_groups: dict[int, AssignmentGroup] = {}
        self.assignments: dict[int, Assignment] = {}
        self.overrides: dict[int, Override] = {}
        self.quizzes: dict[int, Quiz] = {}
        self.quiz_submissions: dict[tuple[int, int], QuizSubmission] = {}
        self.accommodations: dict[int, dict[int, Accommodation]] = {}  # assignment id -> user id
        self.course_accommodations: dict[int, dict[int, Accommodation]] = {}
        self.modules: dict[int, Module] = {}
        self.module_items: dict[int, ModuleItem] = {}
        self.pages: dict[int, Page] = {}
        self.files: dict[int, File] = {}
        self.folders: dict[tuple[int, str], int] = {}
        self.topics: dict[int, DiscussionTopic] = {}

    def _next_id(self, kind: str) -> int:
        return next(self._ids[kind])

    # -- lookups -------------------------------------------------------------------------------

    def course(self, ref: int | str) -> Course:
        """By Canvas id or `sis_course_id:X` (as in a URL path)."""
        with self.lock:
            text = str(ref)
            if text.startswith("sis_course_id:"):
                sis = text.split(":", 1)[1]
                for course in self.courses.values():
                    if course.sis_course_id == sis:
                        return course
                raise not_found()
            if text.isdigit() and int(text) in self.courses:
                return self.courses[int(text)]
            raise not_found()

    def find_user(self, ref: Any) -> User | None:
        """A user by id (int or digits) or `sis_user_id:X`; None when unknown."""
        text = str(ref).strip()
        if text.startswith("sis_user_id:"):
            sis = text.split(":", 1)[1]
            return next((u for u in self.users.values() if u.sis_user_id == sis), None)
        if text.isdigit():
            return self.users.get(int(text))
        return None

    def student_enrollments(self, course_id: int) -> Iterator[Enrollment]:
        for enrollment in self.enrollments.values():
            if enrollment.course_id == course_id and enrollment.type == STUDENT and enrollment.state != "deleted":
                yield enrollment

    def active_student_ids(self, course_id: int) -> set[int]:
        """`course.students`: active student enrolments only."""
        return {e.user_id for e in self.student_enrollments(course_id) if e.state == "active"}

    def all_student_ids(self, course_id: int) -> set[int]:
        """`course.all_students`: any non-deleted student enrolment (overrides look here)."""
        return {e.user_id for e in self.student_enrollments(course_id)}

    def date_input(self, course: Course, value: Any, *, fancy: bool = False) -> datetime | None:
        """Parse a date param; due_at/lock_at go through fancy midnight in the course zone."""
        instant = dates.parse(value, self.config.user_time_zone)
        return dates.fancy_midnight(instant, course.time_zone) if fancy else instant

    def now(self) -> datetime:
        return dates.now()
