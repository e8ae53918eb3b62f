"""Which work is due: pure, from the exams, the time and the settings (no clock, no I/O).

The leader calls `due_jobs` on every tick and enqueues the result; each job's `dedupe_key`
is unique per occurrence, so enqueueing the same answer twice (two ticks, two leaders across a
failover, a restart) adds nothing. A tick that comes late (the leader was down) still returns
what fell due meanwhile, once:

- `apply_exam` from T - apply_before until the exam's close (plus the grace), keyed by the
  exam and its start, so a moved exam is applied again;
- `verify_exam` from T - verify_before until the close, likewise;
- `reconcile_course` every night at `nightly_at` (policy-zone wall clock) for each course
  with an exam ahead (within `horizon` and not yet closed), keyed by the local date: a night
  the leader missed is made up once, never twice, whatever the clocks do;
- `reconcile_course` every `roster_check` for each course with an exam inside its apply
  window, so a late enrolment gets its window before the exam, not the next night.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..domain.timeutil import latest_local_to_utc
from . import kinds

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    zone: ZoneInfo = ZoneInfo("Europe/London")
    apply_before: timedelta = timedelta(hours=24)
    verify_before: timedelta = timedelta(minutes=30)
    nightly_at: time = time(2, 30)  # local; away from the UK's 01:00-02:00 clock changes
    horizon: timedelta = timedelta(days=60)  # courses with an exam starting within this are reconciled nightly
    roster_check: timedelta | None = timedelta(hours=1)  # None: nightly only
    close_grace: timedelta = timedelta(days=1)  # work on an exam goes on this long after its standard close

    def __post_init__(self) -> None:
        if self.verify_before < timedelta(0) or self.apply_before < timedelta(0):
            raise ValueError("apply_before and verify_before must not be negative")
        if self.roster_check is not None and self.roster_check <= timedelta(0):
            raise ValueError("roster_check must be positive (or None)")


@dataclass(frozen=True, slots=True)
class ScheduledExam:
    """What scheduling needs of an exam: its course, its (effective) start and standard close."""

    exam_id: str
    course: str | None
    start: datetime
    closes_at: datetime


@dataclass(frozen=True, slots=True)
class DueJob:
    kind: str
    args: tuple[tuple[str, Any], ...]  # sorted (name, value) pairs: hashable; ids only
    due_at: datetime
    dedupe_key: str

    @property
    def arguments(self) -> dict[str, Any]:
        return dict(self.args)

    @classmethod
    def make(cls, kind: str, args: Mapping[str, Any], due_at: datetime, dedupe_key: str) -> DueJob:
        checked = kinds.check_args(kind, args)
        return cls(kind, tuple(sorted(checked.items())), due_at, dedupe_key)


def _stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def nightly_instant(now: datetime, settings: ScheduleSettings) -> tuple[datetime, str]:
    """The latest nightly run at or before `now`, and its local date (the dedupe part).

    A nightly time that falls in a spring-forward gap or an autumn fold resolves to one
    instant per local date (the later reading), so each date has exactly one run."""
    local_day = now.astimezone(settings.zone).date()
    for day in (local_day, local_day - timedelta(days=1), local_day - timedelta(days=2)):
        instant = latest_local_to_utc(day, settings.nightly_at, settings.zone)
        if instant <= now:
            return instant, day.isoformat()
    raise AssertionError("unreachable: some nightly run is at most two days old")


def roster_bucket(now: datetime, every: timedelta) -> datetime:
    """The start of the fixed `every`-long period (counted from the Unix epoch) holding `now`."""
    n = (now - _EPOCH) // every
    return _EPOCH + n * every


def due_jobs(exams: Iterable[ScheduledExam], now: datetime, settings: ScheduleSettings) -> list[DueJob]:
    """Every job due at `now`, sorted by due time then key. Exams without a course are not in
    any LMS, so nothing is scheduled for them."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    jobs: dict[str, DueJob] = {}

    def add(job: DueJob) -> None:
        jobs.setdefault(job.dedupe_key, job)

    ahead: set[str] = set()
    live: set[str] = set()
    for exam in exams:
        if not exam.course:
            continue
        ends = exam.closes_at + settings.close_grace
        if now >= ends:
            continue
        stamp = _stamp(exam.start)
        apply_at = exam.start - settings.apply_before
        if now >= apply_at:
            add(DueJob.make(kinds.APPLY_EXAM, {"exam_id": exam.exam_id}, apply_at,
                            f"{kinds.APPLY_EXAM}:{exam.exam_id}@{stamp}"))
            live.add(exam.course)
        verify_at = exam.start - settings.verify_before
        if now >= verify_at:
            add(DueJob.make(kinds.VERIFY_EXAM, {"exam_id": exam.exam_id}, verify_at,
                            f"{kinds.VERIFY_EXAM}:{exam.exam_id}@{stamp}"))
        if exam.start - now <= settings.horizon:
            ahead.add(exam.course)

    if ahead:
        night, day = nightly_instant(now, settings)
        for course in ahead:
            add(DueJob.make(kinds.RECONCILE_COURSE, {"course": course}, night,
                            f"{kinds.RECONCILE_COURSE}:{course}:nightly:{day}"))
    if live and settings.roster_check is not None:
        bucket = roster_bucket(now, settings.roster_check)
        for course in live:
            add(DueJob.make(kinds.RECONCILE_COURSE, {"course": course}, bucket,
                            f"{kinds.RECONCILE_COURSE}:{course}:roster:{bucket.strftime('%Y%m%dT%H%M%SZ')}"))
    return sorted(jobs.values(), key=lambda j: (j.due_at, j.dedupe_key))
