"""The create/edit exam form: the same checks as a timetable.csv row, one message per field.

Validation is all-or-nothing: an exam is built only when every field is valid, so nothing
can be half-saved. Messages are the CSV reader's own (lms_bridge.inputs), so the timetable
file and the form accept exactly the same exams.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...domain.model import TWENTY_FOUR_HOURS, Delivery, Exam
from ...domain.policy import Policy
from ...inputs.timetable import parse_delivery, parse_duration, required_text
from ...inputs.values import parse_id, parse_instant, parse_int
from .wording import DELIVERY_LABELS, local_input

FIELDS = ("exam_id", "title", "delivery", "start", "duration_minutes", "reading_minutes", "upload_minutes")


@dataclass
class ExamForm:
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    exam: Exam | None = None

    @property
    def ok(self) -> bool:
        return self.exam is not None and not self.errors


def blank(policy: Policy) -> dict[str, str]:
    return {name: "" for name in FIELDS} | {"delivery": Delivery.DROPBOX.value}


def values_of(exam: Exam, policy: Policy) -> dict[str, str]:
    zone = policy.calendar.zone
    return {
        "exam_id": exam.exam_id,
        "title": exam.title,
        "delivery": Delivery(exam.delivery).value,
        "start": local_input(exam.start, zone),
        "duration_minutes": str(exam.duration_minutes),
        "reading_minutes": "" if exam.reading_minutes is None else str(exam.reading_minutes),
        "upload_minutes": "" if exam.upload_minutes is None else str(exam.upload_minutes),
    }


def validate(form: Mapping[str, str], policy: Policy, course: str, *, exam_id: str | None = None) -> ExamForm:
    """Check the submitted fields. `exam_id` is the id being edited (the id field is then
    ignored: an exam keeps its id, which the LMS objects are tagged with)."""
    raw = {name: (form.get(name) or "").strip() for name in FIELDS}
    if exam_id is not None:
        raw["exam_id"] = exam_id
    # datetime-local sends 2026-12-01T09:30; the CSV's form 2026-12-01 09:30 is accepted too
    result = ExamForm(values=dict(raw))
    zone = policy.calendar.zone
    limits = policy.limits

    def cell(name: str, parse: Callable[[str], Any]) -> Any:
        try:
            return parse(raw[name])
        except ValueError as exc:
            result.errors[name] = _sentence(str(exc))
            return None

    def optional(parse: Callable[[str], Any]) -> Callable[[str], Any]:
        return lambda text: parse(text) if text else None

    got = {
        "exam_id": cell("exam_id", lambda t: parse_id(t, "an exam id")),
        "title": cell("title", required_text("a title")),
        "delivery": cell("delivery", parse_delivery),
        "start": cell("start", lambda t: parse_instant(required_text("a start time")(t), zone)),
        "duration_minutes": cell("duration_minutes", lambda t: parse_duration(t, policy)),
        "reading_minutes": cell("reading_minutes",
                                optional(lambda t: parse_int(t, low=0, high=limits.max_reading_minutes))),
        "upload_minutes": cell("upload_minutes",
                               optional(lambda t: parse_int(t, low=0, high=limits.max_upload_minutes))),
    }
    if not result.errors:
        result.exam = Exam(
            exam_id=got["exam_id"], title=got["title"], delivery=got["delivery"], start=got["start"],
            duration_minutes=got["duration_minutes"], reading_minutes=got["reading_minutes"],
            upload_minutes=got["upload_minutes"], course=course,
        )
    return result


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def duration_hint(policy: Policy) -> str:
    rules = policy.durations
    if rules.short_allowed_minutes:
        allowed = ", ".join(str(m) for m in rules.short_allowed_minutes)
        return f"Under the {policy.name} policy: {allowed}, or {TWENTY_FOUR_HOURS} for a 24-hour exam."
    return f"Up to {rules.short_max_minutes} minutes, or {TWENTY_FOUR_HOURS} for a 24-hour exam."


def delivery_choices() -> list[tuple[str, str]]:
    return [(d.value, DELIVERY_LABELS[d]) for d in Delivery]
