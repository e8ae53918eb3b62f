"""The in-memory Canvas: every table behind one re-entrant lock.

`CanvasSimulator` is what the app serves and what tests inspect or change "by hand" (drift):
e.g. `sim.update_assignment(cid, aid, {"due_at": ...})`, `sim.delete_override(...)`,
`sim.update_module(cid, mid, {"published": False})`, or direct edits under `with sim.lock:`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from .config import SimulatorConfig
from .content import ContentOps
from .errors import invalid
from .overrides import Owner
from .params import to_bool
from .records import DATE_FIELDS, Assignment, Override, Quiz

DatedKind = Literal["assignments", "quizzes"]


@dataclass
class DateDetails:
    """What GET .../date_details reads: base dates and the object's active overrides."""

    id: int
    dates: dict[str, datetime | None]
    only_visible_to_overrides: bool
    graded: bool
    overrides: list[Override]


class CanvasSimulator(ContentOps):
    def __init__(self, config: SimulatorConfig | None = None) -> None:
        super().__init__(config)

    # -- learning object dates (date_details) ---------------------------------------------------

    def _dated(self, course_id: int, kind: DatedKind, object_id: Any) -> tuple[Assignment | Quiz, Owner]:
        if kind == "assignments":
            assignment = self.get_assignment(course_id, object_id)
            return assignment, self.owner_of_assignment(assignment)
        quiz = self.get_quiz(course_id, object_id)
        return quiz, self.owner_of_quiz(quiz)

    def date_details(self, course_id: int, kind: DatedKind, object_id: Any) -> DateDetails:
        with self.lock:
            obj, owner = self._dated(course_id, kind, object_id)
            graded = obj.graded if isinstance(obj, Quiz) else True
            return DateDetails(obj.id, {n: getattr(obj, n) for n in DATE_FIELDS}, obj.only_visible_to_overrides,
                               graded, self.owner_overrides(owner))

    def update_date_details(self, course_id: int, kind: DatedKind, object_id: Any, fields: Mapping[str, Any]) -> None:
        """PUT .../date_details: base dates plus a declarative override set, all or nothing."""
        with self.lock:
            course = self.course(course_id)
            obj, owner = self._dated(course.id, kind, object_id)
            ops = None
            if "assignment_overrides" in fields:
                ops = self.reconcile_ops(owner, fields["assignment_overrides"])
                self._apply_override_ops(course, ops, "declarative", commit=False)
            updates: dict[str, Any] = {}
            for name in DATE_FIELDS:
                if name in fields:
                    try:
                        updates[name] = self.date_input(course, fields[name], fancy=name != "unlock_at")
                    except ValueError as error:
                        raise invalid(name, f"Invalid datetime for {name}", "invalid_datetime") from error
            if "only_visible_to_overrides" in fields:
                updates["only_visible_to_overrides"] = to_bool(fields["only_visible_to_overrides"])
            for name, value in updates.items():
                setattr(obj, name, value)
            if isinstance(obj, Quiz):
                self._sync_quiz_assignment(obj)
            else:
                self._sync_quiz_from_assignment(obj)
            if ops is not None:
                self._apply_override_ops(course, ops, "declarative")

    # -- conveniences for tests -----------------------------------------------------------------

    def find_assignment(self, course_id: int, name: str) -> Assignment | None:
        with self.lock:
            return next((a for a in self.course_assignments(course_id) if a.name == name), None)

    def write_count_state(self) -> dict[str, int]:
        """How many live objects of each kind exist: a quick check that a retry duplicated nothing."""
        with self.lock:
            return {
                "assignments": sum(1 for a in self.assignments.values() if not a.deleted),
                "overrides": sum(1 for o in self.overrides.values() if not o.deleted),
                "quizzes": sum(1 for q in self.quizzes.values() if not q.deleted),
                "modules": sum(1 for m in self.modules.values() if not m.deleted),
                "module_items": sum(1 for i in self.module_items.values() if not i.deleted),
                "pages": sum(1 for p in self.pages.values() if not p.deleted),
                "files": sum(1 for f in self.files.values() if not f.deleted and f.state == "available"),
                "topics": sum(1 for t in self.topics.values() if not t.deleted),
            }
