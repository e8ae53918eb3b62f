"""Assignment groups, assignments, and which dates a student or a teacher sees."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .errors import invalid, not_found
from .overrides import OverrideOp, OverrideOps
from .params import as_list, to_bool, to_float, to_int
from .records import (
    ADHOC,
    DATE_FIELDS,
    SECTION,
    Assignment,
    AssignmentGroup,
    Course,
    Override,
)

_SCALARS = ("description", "grading_type")
DateTriple = dict[str, datetime | None]


class AssignmentOps(OverrideOps):
    # -- assignment groups ----------------------------------------------------------------------

    def list_assignment_groups(self, course_id: int) -> list[AssignmentGroup]:
        with self.lock:
            groups = [g for g in self.assignment_groups.values() if g.course_id == course_id and not g.deleted]
            return sorted(groups, key=lambda g: (g.position, g.id))

    def create_assignment_group(self, course_id: int, fields: Mapping[str, Any]) -> AssignmentGroup:
        with self.lock:
            course = self.course(course_id)
            existing = self.list_assignment_groups(course.id)
            group = AssignmentGroup(
                self._next_id("assignment_group"), course.id, str(fields.get("name") or "Assignments"),
                _int(fields, "position") or len(existing) + 1, to_float(fields.get("group_weight")) or 0.0)
            self.assignment_groups[group.id] = group
            return group

    def get_assignment_group(self, course_id: int, group_id: Any) -> AssignmentGroup:
        with self.lock:
            gid = _id(group_id)
            group = self.assignment_groups.get(gid) if gid is not None else None
            if group is None or group.deleted or group.course_id != course_id:
                raise not_found()
            return group

    def update_assignment_group(self, course_id: int, group_id: Any, fields: Mapping[str, Any]) -> AssignmentGroup:
        with self.lock:
            group = self.get_assignment_group(course_id, group_id)
            if "name" in fields:
                group.name = str(fields["name"])
            if "position" in fields:
                group.position = _int(fields, "position") or group.position
            if "group_weight" in fields:
                group.group_weight = to_float(fields["group_weight"]) or 0.0
            return group

    def delete_assignment_group(self, course_id: int, group_id: Any) -> AssignmentGroup:
        with self.lock:
            group = self.get_assignment_group(course_id, group_id)
            group.deleted = True
            for assignment in self.course_assignments(course_id):
                if assignment.assignment_group_id == group.id:
                    self._delete_assignment(assignment)
            return group

    def default_assignment_group(self, course_id: int) -> AssignmentGroup:
        """Canvas makes an "Assignments" group the first time one is needed."""
        with self.lock:
            groups = self.list_assignment_groups(course_id)
            return groups[0] if groups else self.create_assignment_group(course_id, {"name": "Assignments"})

    # -- assignments ----------------------------------------------------------------------------

    def course_assignments(self, course_id: int) -> list[Assignment]:
        with self.lock:
            out = [a for a in self.assignments.values() if a.course_id == course_id and not a.deleted]
            return sorted(out, key=lambda a: (a.position, a.id))

    def get_assignment(self, course_id: int, assignment_id: Any) -> Assignment:
        with self.lock:
            return self._assignment(course_id, assignment_id)

    def create_assignment(self, course_id: int, fields: Mapping[str, Any]) -> Assignment:
        with self.lock:
            course = self.course(course_id)
            if not fields.get("name"):
                raise invalid("name", "name is required", "blank")
            now = self.now()
            assignment = Assignment(
                id=self._next_id("assignment"), course_id=course.id, name="", assignment_group_id=0,
                position=len(self.course_assignments(course.id)) + 1, created_at=now, updated_at=now)
            self._set_assignment_fields(course, assignment, fields, creating=True)
            if to_bool(fields.get("quiz_lti")):
                assignment.is_quiz_lti = True
                assignment.submission_types = ["external_tool"]
            if "assignment_overrides" in fields:
                ops = [OverrideOp("create", (assignment.id, None), item)
                       for item in as_list(fields["assignment_overrides"]) if isinstance(item, Mapping)]
                self._apply_override_ops(course, ops, "declarative")
            self.assignments[assignment.id] = assignment
            return assignment

    def update_assignment(self, course_id: int, assignment_id: Any, fields: Mapping[str, Any]) -> Assignment:
        """A present `assignment_overrides` replaces the whole set; an absent one leaves it."""
        with self.lock:
            course = self.course(course_id)
            assignment = self._assignment(course.id, assignment_id)
            ops: list[OverrideOp] | None = None
            if "assignment_overrides" in fields:
                ops = self.reconcile_ops(self.owner_of_assignment(assignment), fields["assignment_overrides"])
                self._apply_override_ops(course, ops, "declarative", commit=False)
            staged = Assignment(**assignment.__dict__)
            self._set_assignment_fields(course, staged, fields, creating=False)
            assignment.__dict__.update(staged.__dict__)
            assignment.updated_at = self.now()
            if ops is not None:
                self._apply_override_ops(course, ops, "declarative")
            self._sync_quiz_from_assignment(assignment)
            return assignment

    def delete_assignment(self, course_id: int, assignment_id: Any) -> Assignment:
        with self.lock:
            assignment = self._assignment(course_id, assignment_id)
            self._delete_assignment(assignment)
            return assignment

    def _delete_assignment(self, assignment: Assignment) -> None:
        assignment.deleted = True
        for override in self.owner_overrides(self.owner_of_assignment(assignment)):
            override.deleted = True
        if assignment.quiz_id is not None and assignment.quiz_id in self.quizzes:
            self.quizzes[assignment.quiz_id].deleted = True
            self._remove_module_items("Quiz", assignment.quiz_id)
        self._remove_module_items("Assignment", assignment.id)

    def _remove_module_items(self, type_: str, content_id: int) -> None:
        for item in self.module_items.values():
            if item.type == type_ and item.content_id == content_id:
                item.deleted = True

    def _set_assignment_fields(self, course: Course, a: Assignment, fields: Mapping[str, Any], *, creating: bool) -> None:
        if "name" in fields:
            if not fields["name"]:
                raise invalid("name", "name is required", "blank")
            a.name = str(fields["name"])
        for name in _SCALARS:
            if name in fields:
                setattr(a, name, fields[name])
        if "submission_types" in fields:
            a.submission_types = [str(t) for t in as_list(fields["submission_types"])] or ["none"]
        if "allowed_extensions" in fields:
            a.allowed_extensions = [str(e) for e in as_list(fields["allowed_extensions"])]
        try:
            if "points_possible" in fields:
                a.points_possible = to_float(fields["points_possible"])
            if "allowed_attempts" in fields:
                a.allowed_attempts = to_int(fields["allowed_attempts"]) or -1
            if "position" in fields:
                a.position = to_int(fields["position"]) or a.position
        except ValueError as error:
            raise invalid("assignment", str(error)) from error
        for name in DATE_FIELDS:
            if name in fields:
                try:
                    setattr(a, name, self.date_input(course, fields[name], fancy=name != "unlock_at"))
                except ValueError as error:
                    raise invalid(name, f"Invalid datetime for {name}", "invalid_datetime") from error
                if name == "due_at" and a.due_at is not None:
                    a.time_zone_edited = self.config.user_time_zone
        for name in ("published", "only_visible_to_overrides"):
            if name in fields:
                setattr(a, name, to_bool(fields[name]))
        if "assignment_group_id" in fields or creating:
            gid = _id(fields.get("assignment_group_id"))
            group = self.assignment_groups.get(gid) if gid is not None else None
            if group is None or group.deleted or group.course_id != course.id:
                group = self.default_assignment_group(course.id) if creating else self.assignment_groups[a.assignment_group_id]
            a.assignment_group_id = group.id

    def _sync_quiz_from_assignment(self, assignment: Assignment) -> None:
        """Assignment#update_quiz_or_discussion_topic: a quiz's assignment edits the quiz too."""
        if assignment.quiz_id is None or assignment.quiz_id not in self.quizzes:
            return
        quiz = self.quizzes[assignment.quiz_id]
        quiz.title = assignment.name
        quiz.due_at, quiz.unlock_at, quiz.lock_at = assignment.due_at, assignment.unlock_at, assignment.lock_at
        quiz.published = assignment.published
        quiz.only_visible_to_overrides = assignment.only_visible_to_overrides
        quiz.assignment_group_id = assignment.assignment_group_id

    # -- dates as seen ---------------------------------------------------------------------------

    def teacher_view_dates(self, assignment: Assignment) -> DateTriple:
        """`override_assignment_dates=true` (the default) for a teacher token: the most lenient
        of the base dates and every override; nothing at all when only visible to overrides."""
        if assignment.only_visible_to_overrides:
            return {name: None for name in DATE_FIELDS}
        overrides = self.owner_overrides(self.owner_of_assignment(assignment))
        base: DateTriple = {name: getattr(assignment, name) for name in DATE_FIELDS}
        return _most_lenient([base] + [_overridden(o) for o in overrides])

    def student_dates(self, course_id: int, assignment_id: Any, user_id: int) -> DateTriple | None:
        """AssignmentOverrideApplicator (newest): ADHOC wins per field; else a nil date wins;
        else latest due/lock, earliest unlock. None when the student is not assigned."""
        with self.lock:
            assignment = self._assignment(course_id, assignment_id)
            return self.dates_for_student(self.owner_of_assignment(assignment), _base_dates(assignment),
                                          assignment.only_visible_to_overrides, course_id, user_id)

    def dates_for_student(
        self, owner: tuple[int | None, int | None], base: DateTriple, only_overrides: bool, course_id: int, user_id: int
    ) -> DateTriple | None:
        with self.lock:
            sections = {e.section_id for e in self.student_enrollments(course_id)
                        if e.user_id == user_id and e.state == "active"}
            applicable = [o for o in self.owner_overrides(owner)
                          if (o.set_type == ADHOC and user_id in o.student_ids)
                          or (o.set_type == SECTION and o.section_id in sections)]
            if not applicable and only_overrides:
                return None
            out: DateTriple = {}
            for name in DATE_FIELDS:
                adhoc = [o for o in applicable if o.set_type == ADHOC and name in o.overridden]
                others = [o for o in applicable if name in o.overridden]
                if adhoc:
                    out[name] = getattr(adhoc[0], name)
                elif others:
                    out[name] = _most_lenient([{name: getattr(o, name)} for o in others])[name]
                else:
                    out[name] = base[name]
            return out


def _base_dates(assignment: Assignment) -> DateTriple:
    return {name: getattr(assignment, name) for name in DATE_FIELDS}


def _overridden(override: Override) -> DateTriple:
    return {name: getattr(override, name) for name in override.overridden}


def _most_lenient(candidates: list[DateTriple]) -> DateTriple:
    out: DateTriple = {}
    for name in DATE_FIELDS:
        values = [c[name] for c in candidates if name in c]
        if not values:
            out[name] = None
        elif any(v is None for v in values):
            out[name] = None  # "no date" is the most lenient of all
        else:
            present = [v for v in values if v is not None]
            out[name] = min(present) if name == "unlock_at" else max(present)
    return out


def _id(value: Any) -> int | None:
    try:
        return to_int(value)
    except ValueError:
        return None


def _int(fields: Mapping[str, Any], name: str) -> int | None:
    try:
        return to_int(fields.get(name))
    except ValueError as error:
        raise invalid(name, f"invalid {name}") from error

