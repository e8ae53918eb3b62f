"""Timetable warnings: what the policy advises against but does not forbid."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from .calendar import ExamCalendar
from .model import Exam, LintWarning
from .policy import WEEKDAYS, Policy
from .windows import WindowCalculator


class _Sat(Protocol):
    exam_id: str
    student_id: str


def lint_timetable(
    policy: Policy, calculator: WindowCalculator, exams: Iterable[Exam], sittings: Iterable[_Sat]
) -> list[LintWarning]:
    """The policy's timetable warnings. They judge the timetable, so they use standard
    windows only: a support plan neither causes nor hides a warning (and none hints at one)."""
    exams = list(exams)
    calendar = calculator.calendar
    warnings = [w for e in exams if (w := _release_slot(policy, calendar, e)) is not None]
    warnings += _short_exams_per_day(policy, calculator, {e.exam_id: e for e in exams}, sittings)
    return warnings


def _release_slot(policy: Policy, calendar: ExamCalendar, exam: Exam) -> LintWarning | None:
    lint = policy.lint
    local = exam.start.astimezone(calendar.zone)
    clock = local.time().replace(tzinfo=None)
    if exam.is_24_hour:
        if lint.release_24h_time is None:
            return None
        days = lint.release_24h_weekdays or WEEKDAYS
        if clock == lint.release_24h_time and WEEKDAYS[local.weekday()] in days:
            return None
        message = (
            f"24-hour exam {exam.exam_id} is released {local:%a %d %b %H:%M}; the policy releases "
            f"24-hour exams at {lint.release_24h_time:%H:%M} on {', '.join(days)}"
        )
    else:
        if not lint.release_slots:
            return None
        allowed = {
            (datetime.combine(local.date(), s) + timedelta(minutes=m)).time()
            for s in lint.release_slots
            for m in lint.release_stagger_minutes
        }
        if clock in allowed:
            return None
        slots = ", ".join(f"{s:%H:%M}" for s in lint.release_slots)
        message = f"exam {exam.exam_id} starts at {clock:%H:%M}, outside the release slots {slots}"
    return LintWarning(policy.rule("release_slot"), message, exam.exam_id, None)


def _short_exams_per_day(
    policy: Policy, calculator: WindowCalculator, exams: Mapping[str, Exam], sittings: Iterable[_Sat]
) -> list[LintWarning]:
    """A student's short exams per day, a 24-hour exam counting on each day whose working
    hours its standard window overlaps (seed 001 4.6: it takes active working time that day)."""
    limit = policy.lint.max_short_exams_per_day
    if limit is None:
        return []
    days_of = {exam_id: _days_taken(calculator, exam) for exam_id, exam in exams.items()}
    per_student: dict[str, list[str]] = defaultdict(list)
    for s in sittings:
        per_student[s.student_id].append(s.exam_id)
    crowded: list[tuple[date, str, list[str]]] = []
    for student, exam_ids in per_student.items():
        if len(exam_ids) <= limit:
            continue
        counts = Counter(day for exam_id in exam_ids for day in days_of[exam_id])
        for day, n in counts.items():
            if n > limit:
                crowded.append((day, student, sorted(e for e in exam_ids if day in days_of[e])))
    zone = calculator.calendar.zone
    out = []
    for day, student, ids in sorted(crowded):
        named = ", ".join(_named(calculator, exams[e], zone) for e in ids)
        out.append(
            LintWarning(
                policy.rule("max_short_per_day"),
                f"student {student} has {len(ids)} exams on {day:%a %d %b %Y} ({named}); "
                f"the policy aims for at most {limit}",
                None,
                student,
            )
        )
    return out


def _named(calculator: WindowCalculator, exam: Exam, zone: ZoneInfo) -> str:
    if not exam.is_24_hour:
        return exam.exam_id
    t = calculator.timing(exam)
    return f"{exam.exam_id}: 24-hour, {t.opens_at.astimezone(zone):%a %d %b %H:%M} to {t.due_at.astimezone(zone):%a %d %b %H:%M}"


def _days_taken(calculator: WindowCalculator, exam: Exam) -> frozenset[date]:
    calendar = calculator.calendar
    zone = calendar.zone
    if not exam.is_24_hour:
        return frozenset((exam.start.astimezone(zone).date(),))
    t = calculator.timing(exam)
    days, day = set(), t.opens_at.astimezone(zone).date()
    last = t.due_at.astimezone(zone).date()
    while day <= last:
        if t.opens_at < calendar.at(day, calendar.day_end) and t.due_at > calendar.at(day, calendar.day_start):
            days.add(day)
        day += timedelta(days=1)
    return frozenset(days)
