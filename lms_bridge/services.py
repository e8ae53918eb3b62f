"""The service layer: the core's use cases over a validated exam period."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from .domain.incidents import IncidentDecision, IncidentError, decide_incident
from .domain.lint import lint_timetable
from .domain.model import ExamPeriod, LintWarning, Window
from .domain.policy import Policy
from .domain.staggering import StaggerPlan, plan_staggering
from .domain.windows import WindowCalculator, compute_windows


@dataclass(frozen=True, slots=True)
class WindowsReport:
    windows: list[Window]
    warnings: list[LintWarning]


def windows_for(policy: Policy, period: ExamPeriod) -> WindowsReport:
    calc = WindowCalculator(policy)
    windows = compute_windows(policy, period.exams, period.plans, period.sittings, calc)
    return WindowsReport(windows, lint_timetable(policy, calc, period.exams, period.sittings))


def incident_for(policy: Policy, period: ExamPeriod, exam_id: str, start: datetime, end: datetime) -> IncidentDecision:
    try:
        exam = period.exam(exam_id)
    except KeyError:
        raise IncidentError(f"exam {exam_id!r} is not in the timetable") from None
    calc = WindowCalculator(policy)
    windows = [w for w in compute_windows(policy, period.exams, period.plans, period.sittings, calc) if w.exam_id == exam_id]
    if not windows:
        raise IncidentError(f"exam {exam_id!r} has no candidates")
    return decide_incident(policy, exam, windows, calc.standard_window_minutes(exam), start, end)


def staggering_for(policy: Policy, period: ExamPeriod) -> StaggerPlan:
    counts = Counter(s.exam_id for s in period.sittings)
    return plan_staggering(policy, period.exams, counts)
