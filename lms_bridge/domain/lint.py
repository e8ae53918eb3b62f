"""Timetable warnings: what the policy advises against but does not forbid."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

from .calendar import ExamCalendar
from .model import Exam, LintWarning, Window
from .policy import WEEKDAYS, Policy


def lint_timetable(
    policy: Policy, calendar: ExamCalendar, exams: Iterable[Exam], windows: Iterable[Window]
) -> list[LintWarning]:
    exams = list(exams)
    warnings = [w for e in exams if (w := _release_slot(policy, calendar, e)) is not None]
    warnings += _short_exams_per_day(policy, calendar, {e.exam_id: e for e in exams}, windows)
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
    policy: Policy, calendar: ExamCalendar, exams: Mapping[str, Exam], windows: Iterable[Window]
) -> list[LintWarning]:
    """A student's short exams per day, a 24-hour exam counting on each day whose working
    hours its window overlaps (seed 001 4.6: it takes active working time that day)."""
    limit = policy.lint.max_short_exams_per_day
    if limit is None:
        return []
    # windows of one exam share their instants, so the days are worked out once per shape
    days_of: dict[tuple[str, datetime], list[date]] = {}
    per_student: dict[str, list[tuple[date, str]]] = defaultdict(list)
    for w in windows:
        key = (w.exam_id, w.due_at)
        days = days_of.get(key)
        if days is None:
            days = days_of[key] = _days_taken(calendar, exams[w.exam_id], w)
        per_student[w.student_id].extend((day, w.exam_id) for day in days)
    per_day: dict[tuple[str, date], list[str]] = {}
    for student, taken in per_student.items():
        if len(taken) <= limit:
            continue
        counts = Counter(day for day, _ in taken)
        for day, n in counts.items():
            if n > limit:
                per_day[(student, day)] = [exam_id for d, exam_id in taken if d == day]
    out = []
    for (student, day), ids in sorted(per_day.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if len(ids) > limit:
            out.append(
                LintWarning(
                    policy.rule("max_short_per_day"),
                    f"student {student} has {len(ids)} exams on {day:%a %d %b %Y} ({', '.join(sorted(ids))}); "
                    f"the policy aims for at most {limit}",
                    None,
                    student,
                )
            )
    return out


def _days_taken(calendar: ExamCalendar, exam: Exam, w: Window) -> list[date]:
    zone = calendar.zone
    if not exam.is_24_hour:
        return [w.opens_at.astimezone(zone).date()]
    days, day = [], w.opens_at.astimezone(zone).date()
    last = w.due_at.astimezone(zone).date()
    while day <= last:
        work_start = calendar.at(day, calendar.day_start)
        work_end = calendar.at(day, calendar.day_end)
        if w.opens_at < work_end and w.due_at > work_start:
            days.append(day)
        day += timedelta(days=1)
    return days


__all__ = ["lint_timetable"]
