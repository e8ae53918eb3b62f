"""Small builders shared by the sync tests (imported, unlike conftest.py).

A "local" time is "YYYY-MM-DD HH:MM" in Europe/London, as a timetable has it; `wall(instant)`
renders an instant the same way with its zone abbreviation, so assertions read like POLICY.md.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from functools import cache
from zoneinfo import ZoneInfo

from lms_bridge.domain.model import (
    DEFAULT_SETUP,
    Delivery,
    Exam,
    ExamPeriod,
    ExamSetup,
    Sitting,
    SupportPlan,
)
from lms_bridge.domain.policy import Policy
from lms_bridge.domain.timeutil import strict_local_to_utc
from lms_bridge.lms import CourseRef, LmsAdapter, Student
from lms_bridge.policies import load_policy
from lms_bridge.sync.desired import Paper
from lms_bridge.sync.engine import SyncPlan, apply_sync, plan_sync

LONDON = ZoneInfo("Europe/London")


@cache
def policy(name: str) -> Policy:
    return load_policy(name)[0]


def at(text: str) -> datetime:
    return strict_local_to_utc(datetime.fromisoformat(text), LONDON)


def wall(instant: datetime | None) -> str | None:
    return None if instant is None else instant.astimezone(LONDON).strftime("%Y-%m-%d %H:%M %Z")


def exam(
    exam_id: str,
    start: str,
    duration: int = 60,
    delivery: str = "dropbox",
    course: str | None = "canvas:1",
    *,
    title: str | None = None,
    setup: ExamSetup = DEFAULT_SETUP,
    reading: int | None = None,
    upload: int | None = None,
) -> Exam:
    return Exam(
        exam_id=exam_id,
        title=title or f"{exam_id} Paper",
        delivery=Delivery(delivery),
        start=at(start),
        duration_minutes=duration,
        reading_minutes=reading,
        upload_minutes=upload,
        course=course,
        setup=setup,
    )


def plan(student_id: str, p: int | str | Fraction = 0, b: int | str | Fraction = 0) -> SupportPlan:
    return SupportPlan(student_id, Fraction(str(p)), Fraction(str(b)))


def period(exams: Sequence[Exam], plans: Iterable[SupportPlan] = (), sittings: Iterable[tuple[str, str]] = ()) -> ExamPeriod:
    return ExamPeriod(tuple(exams), {p.student_id: p for p in plans}, tuple(Sitting(e, s) for e, s in sittings))


def uid(student_id: str) -> str:
    """The LMS user id the tests give a student."""
    return f"u{student_id}"


def roster(*student_ids: str | None, extra: Iterable[Student] = ()) -> tuple[Student, ...]:
    return tuple(Student(s, uid(s)) for s in student_ids if s is not None) + tuple(extra)


def ref(text: str) -> CourseRef:
    return CourseRef.parse(text)


@dataclass
class RecordingAudit:
    """An AuditSink that keeps every entry, as the store would."""

    entries: list[dict[str, object]] = field(default_factory=list)

    def record(self, *, action: str, entity: str, entity_id: str, before: object, after: object, reason: str) -> None:
        # the store keeps before/after as JSON: they must serialise
        json.dumps(before)
        json.dumps(after)
        self.entries.append(
            {"action": action, "entity": entity, "entity_id": entity_id, "before": before, "after": after, "reason": reason}
        )

    def actions(self, suffix: str) -> list[str]:
        return [e["action"] for e in self.entries if str(e["action"]).endswith(suffix)]


def run(coro):
    return asyncio.run(coro)


def plan_now(pol: Policy, per: ExamPeriod, adapters: Mapping[str, LmsAdapter], papers: Mapping[str, Paper] | None = None) -> SyncPlan:
    return run(plan_sync(pol, per, adapters, papers))


def sync_once(
    pol: Policy,
    per: ExamPeriod,
    adapters: Mapping[str, LmsAdapter],
    papers: Mapping[str, Paper] | None = None,
    audit: object | None = None,
) -> SyncPlan:
    """plan_sync then apply_sync, as one scheduled run does."""
    planned = run(plan_sync(pol, per, adapters, papers))
    return run(apply_sync(planned, adapters, audit))  # type: ignore[arg-type]
