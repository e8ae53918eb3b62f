"""What happens to an exam's windows when it is disrupted (POLICY.md "Incidents")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from .model import Exam, Window
from .policy import Decision, Policy
from .timeutil import ceil_minutes, minutes


class IncidentError(ValueError):
    """A disruption that cannot be judged (it ends before it starts, or misses the exam)."""


@dataclass(frozen=True, slots=True)
class IncidentDecision:
    decision: Decision
    rule: str
    fraction: Fraction  # how far into the standard window the disruption started
    disruption_minutes: int
    affected: tuple[str, ...]  # extend: those still sitting when it started; else every candidate
    windows: tuple[Window, ...]  # every candidate's window after the decision


def decide_incident(
    policy: Policy,
    exam: Exam,
    windows: Sequence[Window],
    standard_window_minutes: Fraction,
    start: datetime,
    end: datetime,
) -> IncidentDecision:
    """Judge a disruption of `exam` from `start` to `end` under the policy.

    `windows` are the exam's windows before the incident and `standard_window_minutes` the
    published time (W + U for a candidate without a plan). `extend` moves the due, close and
    time limit of every candidate still sitting later by the disruption (a window already
    closed is not reopened); every other decision concerns the whole sitting, leaves the
    windows as they are and lists every candidate, for special consideration as a group.
    """
    if end <= start:
        raise IncidentError("the disruption must end after it starts")
    if start < exam.start:
        raise IncidentError("the disruption starts before the exam opens")
    affected = [w for w in windows if w.opens_at <= start < w.closes_at]
    if not affected:
        raise IncidentError("the disruption starts after every candidate's window has closed")

    settings = policy.incident
    length = ceil_minutes(Fraction(int((end - start).total_seconds()), 60))
    fraction = Fraction(int((start - exam.start).total_seconds()), 60) / standard_window_minutes
    decision: Decision
    if settings.void_after_minutes is not None and length > settings.void_after_minutes:
        decision = "void"
    elif fraction < settings.threshold or (settings.threshold_inclusive and fraction == settings.threshold):
        decision = settings.early
    else:
        decision = settings.late

    rule = policy.rule("incident")
    if decision == "extend":
        ids = {w.student_id for w in affected}
        after = tuple(_extended(w, length, rule) if w.student_id in ids else w for w in windows)
    else:  # the sitting as a whole is ended, voided, rescheduled or abandoned
        ids = {w.student_id for w in windows}
        after = tuple(windows)
    return IncidentDecision(
        decision=decision,
        rule=rule,
        fraction=fraction,
        disruption_minutes=length,
        affected=tuple(sorted(ids)),
        windows=after,
    )


def _extended(w: Window, length: int, rule: str) -> Window:
    delay = minutes(length)
    limit = None if w.time_limit_minutes is None else w.time_limit_minutes + length
    return Window(w.exam_id, w.student_id, w.opens_at, w.due_at + delay, w.closes_at + delay, limit, (*w.rules, rule))
