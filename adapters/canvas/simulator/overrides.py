"""Assignment overrides: validation, uniqueness and all-or-nothing application.

Every path that writes overrides (single, batch, inline on an assignment, date_details) builds a
list of operations and hands it to `_apply_override_ops`, which checks the result as a whole
before anything is stored: Canvas runs these in one transaction.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import CanvasError, bad_request, model_error, not_found
from .params import as_list, to_int
from .records import ADHOC, DATE_FIELDS, SECTION, Assignment, Course, Override, Quiz
from .roster import RosterOps

Owner = tuple[int | None, int | None]  # (assignment_id, quiz_id)
Style = Literal["single", "batch", "declarative"]

ADHOC_TAKEN = "already belongs to an assignment override"
SECTION_TAKEN = "has already been taken"


@dataclass
class OverrideOp:
    kind: Literal["create", "update", "delete"]
    owner: Owner
    data: Mapping[str, Any] = field(default_factory=dict)
    override_id: int | None = None


@dataclass
class _ModelError:
    attribute: str
    message: str
    type: str
    full: str


class OverrideOps(RosterOps):
    # -- owners ----------------------------------------------------------------------------------

    def _assignment(self, course_id: int, assignment_id: Any) -> Assignment:
        aid = _int_or_none(assignment_id)
        assignment = self.assignments.get(aid) if aid is not None else None
        if assignment is None or assignment.deleted or assignment.course_id != course_id:
            raise not_found()
        return assignment

    def owner_of_assignment(self, assignment: Assignment) -> Owner:
        return (assignment.id, assignment.quiz_id)

    def owner_of_quiz(self, quiz: Quiz) -> Owner:
        return (quiz.assignment_id, quiz.id)

    def owner_overrides(self, owner: Owner) -> list[Override]:
        """Active overrides of one assignment or quiz, oldest first."""
        with self.lock:
            out = [o for o in self.overrides.values() if not o.deleted and belongs(o, owner)]
            return sorted(out, key=lambda o: o.id)

    # -- public operations ----------------------------------------------------------------------

    def list_overrides(self, course_id: int, assignment_id: Any) -> list[Override]:
        with self.lock:
            return self.owner_overrides(self.owner_of_assignment(self._assignment(course_id, assignment_id)))

    def get_override(self, course_id: int, assignment_id: Any, override_id: Any) -> Override:
        with self.lock:
            owner = self.owner_of_assignment(self._assignment(course_id, assignment_id))
            return self._owned_override(owner, override_id)

    def _owned_override(self, owner: Owner, override_id: Any) -> Override:
        oid = _int_or_none(override_id)
        override = self.overrides.get(oid) if oid is not None else None
        if override is None or override.deleted or not belongs(override, owner):
            raise not_found()
        return override

    def create_override(self, course_id: int, assignment_id: Any, data: Mapping[str, Any]) -> Override:
        with self.lock:
            course = self.course(course_id)
            owner = self.owner_of_assignment(self._assignment(course.id, assignment_id))
            return self._apply_override_ops(course, [OverrideOp("create", owner, data)], "single")[0]

    def update_override(self, course_id: int, assignment_id: Any, override_id: Any, data: Mapping[str, Any]) -> Override:
        with self.lock:
            course = self.course(course_id)
            owner = self.owner_of_assignment(self._assignment(course.id, assignment_id))
            existing = self._owned_override(owner, override_id)
            return self._apply_override_ops(course, [OverrideOp("update", owner, data, existing.id)], "single")[0]

    def delete_override(self, course_id: int, assignment_id: Any, override_id: Any) -> Override:
        """Soft delete; the response is the former override."""
        with self.lock:
            owner = self.owner_of_assignment(self._assignment(course_id, assignment_id))
            override = self._owned_override(owner, override_id)
            override.deleted = True
            return override

    def batch_get_overrides(self, course_id: int, items: Sequence[Any]) -> list[Override | None]:
        """`null` for items not found, in request order."""
        with self.lock:
            course = self.course(course_id)
            out: list[Override | None] = []
            for item in items:
                try:
                    if not isinstance(item, Mapping):
                        raise not_found()
                    owner = self.owner_of_assignment(self._assignment(course.id, item.get("assignment_id")))
                    out.append(self._owned_override(owner, item.get("id")))
                except CanvasError:
                    out.append(None)
            return out

    def batch_overrides(self, course_id: int, items: Any, *, create: bool) -> list[Override]:
        """POST/PUT /courses/:id/assignments/overrides: one transaction, positional errors."""
        with self.lock:
            course = self.course(course_id)
            if items is None or items == "" or items == []:
                raise bad_request({"errors": ["no assignment override data present"]})
            items = as_list(items)
            if not all(isinstance(i, Mapping) for i in items):
                raise bad_request({"errors": ["must specify an array of overrides"]})
            ops: list[OverrideOp | None] = []
            errors: list[list[str] | None] = []
            for item in items:
                op, error = self._batch_item_op(course, item, create=create)
                ops.append(op)
                errors.append(error)
            if any(errors):
                raise bad_request({"errors": errors})
            return self._apply_override_ops(course, [op for op in ops if op], "batch")

    def _batch_item_op(self, course: Course, item: Mapping[str, Any], *, create: bool) -> tuple[OverrideOp | None, list[str] | None]:
        if item.get("assignment_id") in (None, ""):
            return None, ["must specify an assignment id"]
        try:
            owner = self.owner_of_assignment(self._assignment(course.id, item["assignment_id"]))
        except CanvasError:
            return None, ["assignment not found"]
        data = {k: v for k, v in item.items() if k not in ("id", "assignment_id")}
        if create:
            if item.get("id") not in (None, ""):
                return None, ["may not specify an override id"]
            return OverrideOp("create", owner, data), None
        if item.get("id") in (None, ""):
            return None, ["must specify an override id"]
        try:
            existing = self._owned_override(owner, item["id"])
        except CanvasError:
            return None, ["override not found"]
        return OverrideOp("update", owner, data, existing.id), None

    def reconcile_ops(self, owner: Owner, items: Any) -> list[OverrideOp]:
        """Declarative set: with id → update, without → create, omitted → delete."""
        wanted = [i for i in as_list(items) if isinstance(i, Mapping)]
        existing = {o.id: o for o in self.owner_overrides(owner)}
        ops: list[OverrideOp] = []
        kept: set[int] = set()
        for item in wanted:
            oid = _int_or_none(item.get("id"))
            data = {k: v for k, v in item.items() if k not in ("id", "assignment_id", "quiz_id")}
            if oid is None:
                ops.append(OverrideOp("create", owner, data))
            elif oid in existing:
                kept.add(oid)
                ops.append(OverrideOp("update", owner, data, oid))
            else:
                raise bad_request({"errors": [f"override not found: {oid}"]})
        ops[:0] = [OverrideOp("delete", owner, override_id=oid) for oid in existing if oid not in kept]
        return ops

    # -- the engine -----------------------------------------------------------------------------

    def _apply_override_ops(self, course: Course, ops: Sequence[OverrideOp], style: Style, *, commit: bool = True) -> list[Override]:
        """Validate the whole result, then store it; raise in Canvas's shape for `style`."""
        owners = {op.owner for op in ops}
        working: dict[int, Override] = {}
        for owner in owners:
            for override in self.owner_overrides(owner):
                working[override.id] = copy.deepcopy(override)
        results: list[Override | None] = []
        data_errors: list[list[str]] = []
        provisional = -1
        for op in ops:
            if op.kind == "delete":
                assert op.override_id is not None
                working.pop(op.override_id, None)
                results.append(None)
                data_errors.append([])
                continue
            current = working.get(op.override_id) if op.override_id is not None else None
            fields, errors = self._interpret(course, op.data, existing=current)
            data_errors.append(errors)
            if errors:
                results.append(None)
                continue
            if current is None:
                current = Override(provisional, course.id, op.owner[0], op.owner[1], fields.get("set_type", ADHOC))
                provisional -= 1
                working[current.id] = current
            _assign(current, fields, replace_dates=True)
            results.append(current)
        model_errors = self._model_errors(ops, results, working, owners)
        if any(data_errors) or any(model_errors):
            raise _render_errors(style, data_errors, model_errors)
        if not commit:
            return [r for r in results if r is not None]
        # Commit: deletes, then updates, then creates with real ids.
        for owner in owners:
            for override in self.owner_overrides(owner):
                if override.id not in working:
                    override.deleted = True
        stored: dict[int, Override] = {}
        for oid, override in working.items():
            if oid < 0:
                override.id = self._next_id("override")
            if override.set_type == ADHOC and not override.student_ids:
                override.deleted = True  # destroy_if_empty_set
            self.overrides[override.id] = override
            stored[oid] = override
        return [r for r in results if r is not None]

    def _interpret(self, course: Course, data: Mapping[str, Any], *, existing: Override | None) -> tuple[dict[str, Any], list[str]]:
        """interpret_assignment_override_data: returns the fields to set and string errors."""
        fields: dict[str, Any] = {}
        errors: list[str] = []
        if "student_ids" in data:
            raw = [str(s) for s in as_list(data.get("student_ids"))]
            allowed = self.all_student_ids(course.id)
            ids: list[int] = []
            unknown: list[str] = []
            for ref in raw:
                user = self.find_user(ref)
                if user is None or user.id not in allowed:
                    unknown.append(ref)
                elif user.id not in ids:
                    ids.append(user.id)
            if unknown:
                errors.append(f"unknown student ids: {json.dumps(unknown)}")
            fields.update(set_type=ADHOC, student_ids=ids)
        elif data.get("group_id") not in (None, ""):
            errors.append("group_id is not valid")
        elif data.get("course_section_id") not in (None, ""):
            section = self.find_section(course.id, data["course_section_id"])
            if section is None:
                errors.append(f"unknown section id {json.dumps(str(data['course_section_id']))}")
            else:
                fields.update(set_type=SECTION, section_id=section.id, title=section.name)
        elif existing is None:
            errors.append("one of student_ids, group_id, or course_section_id is required")
        if "title" in data and fields.get("set_type", existing.set_type if existing else None) != SECTION:
            fields["title"] = data.get("title")
        dates: dict[str, Any] = {}
        for name in DATE_FIELDS:
            if name in data:
                try:
                    dates[name] = self.date_input(course, data[name], fancy=name != "unlock_at")
                except ValueError:
                    errors.append(f"invalid {name} {json.dumps(str(data[name]))}")
        fields["dates"] = dates
        return fields, errors

    def _model_errors(
        self, ops: Sequence[OverrideOp], results: Sequence[Override | None], working: Mapping[int, Override], owners: set[Owner]
    ) -> list[list[_ModelError]]:
        errors: list[list[_ModelError]] = [[] for _ in ops]
        index_of = {id(r): i for i, r in enumerate(results) if r is not None}
        for owner in owners:
            members = sorted(
                (o for o in working.values() if belongs(o, owner)),
                # Untouched rows first, so the conflict is blamed on the operation that made it.
                key=lambda o: (id(o) in index_of, index_of.get(id(o), 0), o.id),
            )
            seen_students: set[int] = set()
            seen_sections: set[int] = set()
            for override in members:
                i = index_of.get(id(override))
                if override.set_type == ADHOC:
                    if not override.title and i is not None:
                        errors[i].append(_ModelError("title", "can't be blank", "blank", "Title can't be blank"))
                    clash = seen_students.intersection(override.student_ids)
                    if clash and i is not None:
                        errors[i].append(_ModelError(
                            "assignment_override_students", ADHOC_TAKEN, "taken",
                            f"Assignment override students {ADHOC_TAKEN}"))
                    seen_students.update(override.student_ids)
                elif override.set_type == SECTION and override.section_id is not None:
                    if override.section_id in seen_sections and i is not None:
                        errors[i].append(_ModelError("set_id", SECTION_TAKEN, "taken", f"Set {SECTION_TAKEN}"))
                    seen_sections.add(override.section_id)
        return errors


def belongs(override: Override, owner: Owner) -> bool:
    """Overrides of a graded quiz hang off its assignment; a practice quiz's off the quiz."""
    aid, qid = owner
    if aid is not None:
        return override.assignment_id == aid
    return override.assignment_id is None and override.quiz_id == qid


def _assign(override: Override, fields: Mapping[str, Any], *, replace_dates: bool) -> None:
    if "set_type" in fields:
        override.set_type = fields["set_type"]
        if override.set_type == ADHOC:
            override.section_id = None
        else:
            override.student_ids = []
    if "student_ids" in fields:
        override.student_ids = list(fields["student_ids"])
    if "section_id" in fields:
        override.section_id = fields["section_id"]
    if "title" in fields:
        override.title = fields["title"]
    dates = fields.get("dates", {})
    if replace_dates:
        # On PUT every date not resent stops being overridden.
        override.overridden = set(dates)
    for name in DATE_FIELDS:
        setattr(override, name, dates.get(name) if name in override.overridden else None)


def _render_errors(style: Style, data_errors: list[list[str]], model_errors: list[list[_ModelError]]) -> CanvasError:
    if style == "batch":
        positional: list[list[str] | None] = []
        for strings, models in zip(data_errors, model_errors):
            messages = strings + [m.full for m in models]
            positional.append(messages or None)
        return bad_request({"errors": positional})
    strings = [s for group in data_errors for s in group]
    if strings:
        return bad_request({"errors": strings})
    models = [m for group in model_errors for m in group]
    if style == "single":
        body: dict[str, Any] = {"errors": {}}
        for m in models:
            body["errors"].setdefault(m.attribute, []).append(
                model_error(m.attribute, m.message, m.type)["errors"][m.attribute][0])
        return bad_request(body)
    return bad_request({"errors": [m.full for m in models]})


def _int_or_none(value: Any) -> int | None:
    try:
        return to_int(value)
    except ValueError:
        return None
