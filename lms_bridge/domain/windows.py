"""Every candidate's window, exactly as POLICY.md says.

A window depends only on the exam and the student's plan, except under a clash rule,
which looks at the student's other deadlines; so windows are computed once per
(exam, plan) and shared by every candidate with that plan, and the clash rule runs
afterwards on the few students it concerns.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

from .calendar import ExamCalendar
from .model import NO_PLAN, TWENTY_FOUR_HOURS, Exam, Sitting, SupportPlan, Window
from .policy import Policy
from .rules import CLOCK_CHANGE
from .timeutil import ceil_minutes, minutes

_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Timing:
    """A window before it is given to a student."""

    opens_at: datetime
    due_at: datetime
    closes_at: datetime
    time_limit_minutes: int | None
    rules: tuple[str, ...]

    def to_window(self, exam_id: str, student_id: str) -> Window:
        return Window(
            exam_id, student_id, self.opens_at, self.due_at, self.closes_at,
            self.time_limit_minutes, self.rules,
        )


class WindowCalculator:
    """Computes timings under one policy; memoises per (exam, plan numbers)."""

    def __init__(self, policy: Policy, calendar: ExamCalendar | None = None) -> None:
        self.policy = policy
        self.calendar = calendar or ExamCalendar(policy.calendar)
        self._late = minutes(policy.late_minutes)
        self._standard: dict[str, Timing] = {}  # most candidates have no plan: a cheap key
        self._memo: dict[tuple[str, Fraction, Fraction], Timing] = {}

    def reading(self, exam: Exam) -> int:
        r = exam.reading_minutes
        return self.policy.defaults.reading_minutes if r is None else r

    def upload(self, exam: Exam) -> int:
        u = exam.upload_minutes
        return self.policy.defaults.upload_minutes if u is None else u

    def timing(self, exam: Exam, plan: SupportPlan = NO_PLAN) -> Timing:
        if plan.is_empty:
            found = self._standard.get(exam.exam_id)
            if found is None:
                found = self._standard[exam.exam_id] = self._compute(exam, NO_PLAN)
            return found
        key = (exam.exam_id, plan.extra_time_percent, plan.rest_break_minutes_per_hour)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._compute(exam, plan)
        return found

    def _compute(self, exam: Exam, plan: SupportPlan) -> Timing:
        return self._long(exam, plan) if exam.is_24_hour else self._short(exam, plan)

    def standard_window_minutes(self, exam: Exam) -> Fraction:
        """The published time over which the exam is scheduled (a candidate without a plan)."""
        t = self.timing(exam)
        return Fraction(int((t.due_at - t.opens_at).total_seconds()), 60)

    # -- short exams -------------------------------------------------------------------
    def _short(self, exam: Exam, plan: SupportPlan) -> Timing:
        p = self.policy
        rules: list[str] = []
        r, d, u = self.reading(exam), exam.duration_minutes, self.upload(exam)
        factor = 1 + plan.extra_time_percent / 100
        if u:
            rules.append(p.rule("upload"))
        if r:
            rules.append(p.rule("reading"))
        if plan.extra_time_percent:
            rules.append(p.rule("extra_time"))
        allowed = ceil_minutes((r + d) * factor)
        breaks = self._breaks(d, plan)
        if breaks:
            rules.append(p.rule("rest_breaks"))
            allowed += breaks
        upload = ceil_minutes(u * factor) if p.short.extend_upload else u
        due = exam.start + minutes(allowed + upload)
        return self._finish(exam, due, allowed if exam.delivery.is_timed else None, rules)

    def _breaks(self, duration: int, plan: SupportPlan) -> int:
        b = plan.rest_break_minutes_per_hour
        if not b or self.policy.short.rest_breaks == "ignored":
            return 0
        period = self.policy.short.rest_break_period_minutes
        started_periods = -(-duration // period)
        return ceil_minutes(b * Fraction(period, 60) * started_periods)

    # -- 24-hour exams -----------------------------------------------------------------
    def _long(self, exam: Exam, plan: SupportPlan) -> Timing:
        p, cal = self.policy, self.calendar
        rules = [p.rule("due_24h")]
        local = exam.start.astimezone(cal.zone)
        if p.twenty_four_hour.due == "next_exam_day":
            due_day = cal.next_exam_day(local.date())
        else:
            due_day = local.date() + _DAY
        due, shifted = _later(cal.at(due_day, local.time()), exam.start + minutes(TWENTY_FOUR_HOURS))
        if shifted:
            rules.append(CLOCK_CHANGE)
        if not plan.is_empty:
            if p.twenty_four_hour.plan == "none":
                rules.append(p.rule("no_ilp_24h"))
            elif plan.extra_time_percent:
                extra = ceil_minutes(plan.extra_time_percent * p.twenty_four_hour.working_hours_per_percent * 60)
                due = max(cal.add_working_minutes(due, extra), due + minutes(extra))
                rules.append(p.rule("24h_plan"))
        return self._finish(exam, due, None, rules)

    def _finish(self, exam: Exam, due: datetime, limit: int | None, rules: list[str]) -> Timing:
        if self._late:
            rules.append(self.policy.rule("late"))
        return Timing(exam.start, due, due + self._late, limit, tuple(rules))

    # -- the clash rule ----------------------------------------------------------------
    def apply_clash(self, exams: Sequence[Exam], timings: list[Timing]) -> list[Timing]:
        """One student's timings after the clash rule (for a student with extra time).

        Each 24-hour exam whose plan-extended due date falls on the local date of another of
        the student's deadlines (another 24-hour exam's due date, or a short exam's start)
        moves to the next exam day at the same wall-clock time: evaluated once, no cascade.
        """
        cal = self.calendar
        zone = cal.zone
        due_days = [t.due_at.astimezone(zone).date() if e.is_24_hour else None for e, t in zip(exams, timings)]
        short_days = {e.start.astimezone(zone).date() for e in exams if not e.is_24_hour}
        out = list(timings)
        for i, (exam, timing) in enumerate(zip(exams, timings)):
            day = due_days[i]
            if day is None:
                continue
            others = due_days[:i] + due_days[i + 1:]
            if day in short_days or day in others:
                out[i] = self._moved_one_exam_day(timing, day)
        return out

    def _moved_one_exam_day(self, timing: Timing, day: date) -> Timing:
        cal = self.calendar
        clock = timing.due_at.astimezone(cal.zone).time()
        due, shifted = _later(cal.at(cal.next_exam_day(day), clock), timing.due_at + _DAY)
        rules = [r for r in timing.rules if r != self.policy.rule("late")]
        rules.append(self.policy.rule("clash"))
        if shifted and CLOCK_CHANGE not in rules:
            rules.append(CLOCK_CHANGE)
        if self._late:
            rules.append(self.policy.rule("late"))
        return Timing(timing.opens_at, due, due + self._late, timing.time_limit_minutes, tuple(rules))


def _later(wall_clock: datetime, elapsed: datetime) -> tuple[datetime, bool]:
    """Time semantics rule 3: the later instant, and whether the elapsed one won."""
    return (elapsed, True) if elapsed > wall_clock else (wall_clock, False)


def compute_windows(
    policy: Policy,
    exams: Iterable[Exam],
    plans: Mapping[str, SupportPlan],
    sittings: Iterable[Sitting],
    calculator: WindowCalculator | None = None,
) -> list[Window]:
    """Every sitting's window, ordered by the exam's start, its id, and the student."""
    calc = calculator or WindowCalculator(policy)
    by_id = {e.exam_id: e for e in exams}
    clash = policy.twenty_four_hour.clash
    windows: list[Window] = []
    # student -> indices into `windows` of their sittings, for the clash rule only
    clash_students: dict[str, list[int]] = defaultdict(list)
    for sitting in sittings:
        exam = by_id[sitting.exam_id]
        plan = plans.get(sitting.student_id, NO_PLAN)
        windows.append(calc.timing(exam, plan).to_window(exam.exam_id, sitting.student_id))
        if clash and plan is not NO_PLAN and plan.extra_time_percent:
            clash_students[sitting.student_id].append(len(windows) - 1)

    for student, indices in clash_students.items():
        student_exams = [by_id[windows[i].exam_id] for i in indices]
        if not any(e.is_24_hour for e in student_exams):
            continue
        before = [_timing_of(windows[i]) for i in indices]
        after = calc.apply_clash(student_exams, before)
        for i, old, new in zip(indices, before, after):
            if new is not old:
                windows[i] = new.to_window(windows[i].exam_id, student)

    rank = {e.exam_id: i for i, e in enumerate(sorted(by_id.values(), key=lambda e: (e.start, e.exam_id)))}
    windows.sort(key=lambda w: (rank[w.exam_id], w.student_id))
    return windows


def _timing_of(w: Window) -> Timing:
    return Timing(w.opens_at, w.due_at, w.closes_at, w.time_limit_minutes, w.rules)
