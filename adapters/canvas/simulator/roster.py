"""Courses, sections, users and enrolments."""

from __future__ import annotations

from .errors import invalid, not_found
from .records import STUDENT, TEACHER, Course, Enrollment, Section, User
from .store import Store


class RosterOps(Store):
    def create_course(
        self,
        name: str | None = None,
        *,
        id: int | None = None,
        sis_course_id: str | None = None,
        time_zone: str | None = None,
        course_code: str | None = None,
    ) -> Course:
        with self.lock:
            if id is None:
                id = max([self._next_id("course"), *(c + 1 for c in self.courses)])
            elif id in self.courses:
                raise ValueError(f"course {id} exists")
            course = Course(
                id=id,
                name=name or f"Course {id}",
                course_code=course_code or (sis_course_id or f"C{id}"),
                sis_course_id=sis_course_id,
                time_zone=time_zone or self.config.default_course_time_zone,
                created_at=self.now(),
            )
            self.courses[id] = course
            section = Section(self._next_id("section"), id, course.name, default=True)
            self.sections[section.id] = section
            return course

    def create_section(self, course_id: int, name: str, sis_section_id: str | None = None) -> Section:
        with self.lock:
            if not name:
                raise invalid("name", "can't be blank", "blank")
            course = self.course(course_id)
            section = Section(self._next_id("section"), course.id, name, sis_section_id)
            self.sections[section.id] = section
            return section

    def course_sections(self, course_id: int) -> list[Section]:
        with self.lock:
            return [s for s in self.sections.values() if s.course_id == course_id]

    def default_section(self, course_id: int) -> Section:
        with self.lock:
            return next(s for s in self.sections.values() if s.course_id == course_id and s.default)

    def find_section(self, course_id: int, ref: object) -> Section | None:
        text = str(ref).strip()
        for section in self.course_sections(course_id):
            if text.startswith("sis_section_id:") and section.sis_section_id == text.split(":", 1)[1]:
                return section
            if text.isdigit() and section.id == int(text):
                return section
        return None

    def create_user(self, name: str, sis_user_id: str | None = None, login_id: str | None = None) -> User:
        with self.lock:
            if sis_user_id is not None and any(u.sis_user_id == sis_user_id for u in self.users.values()):
                raise ValueError(f"sis_user_id {sis_user_id} is taken")
            user = User(self._next_id("user"), name, sis_user_id, login_id or sis_user_id)
            self.users[user.id] = user
            return user

    def user_by_sis_id(self, sis_user_id: str) -> User | None:
        with self.lock:
            return next((u for u in self.users.values() if u.sis_user_id == sis_user_id), None)

    def enroll(
        self,
        course_id: int,
        user_id: int,
        type: str = STUDENT,
        state: str = "active",
        section_id: int | None = None,
    ) -> Enrollment:
        with self.lock:
            if type not in (STUDENT, TEACHER, "TaEnrollment", "ObserverEnrollment", "DesignerEnrollment"):
                raise ValueError(f"unknown enrollment type {type}")
            course = self.course(course_id)
            if user_id not in self.users:
                raise not_found()
            section = section_id if section_id is not None else self.default_section(course.id).id
            enrollment = Enrollment(self._next_id("enrollment"), course.id, user_id, section, type, state)
            self.enrollments[enrollment.id] = enrollment
            return enrollment

    def set_enrollment_state(self, course_id: int, user_id: int, state: str) -> None:
        """Drift by hand: deactivate or conclude a student. Ending an enrolment removes the
        student from ADHOC overrides (and deletes overrides left empty), as Canvas does."""
        with self.lock:
            for enrollment in self.enrollments.values():
                if enrollment.course_id == course_id and enrollment.user_id == user_id:
                    enrollment.state = state
            if state == "deleted":
                self._remove_student_from_overrides(course_id, user_id)

    def _remove_student_from_overrides(self, course_id: int, user_id: int) -> None:
        for override in self.overrides.values():
            if override.course_id == course_id and not override.deleted and user_id in override.student_ids:
                override.student_ids.remove(user_id)
                if not override.student_ids:
                    override.deleted = True

    def course_enrollments(
        self,
        course_id: int,
        types: list[str] | None = None,
        states: list[str] | None = None,
        sis_user_ids: list[str] | None = None,
        user_id: int | None = None,
    ) -> list[Enrollment]:
        """Canvas defaults to active and invited enrolments when no state is asked for."""
        with self.lock:
            wanted_states = set(states or ["active", "invited"])
            out = []
            for enrollment in self.enrollments.values():
                if enrollment.course_id != course_id or enrollment.state == "deleted":
                    continue
                if types and enrollment.type not in types:
                    continue
                if enrollment.state not in wanted_states:
                    continue
                user = self.users[enrollment.user_id]
                if sis_user_ids is not None and user.sis_user_id not in sis_user_ids:
                    continue
                if user_id is not None and enrollment.user_id != user_id:
                    continue
                out.append(enrollment)
            return sorted(out, key=lambda e: e.id)
