"""Readers for the input files of INTERFACES.md. Whole files are validated before anything
is used: every problem in every file is reported together, and nothing is returned."""

from __future__ import annotations

from pathlib import Path

from ..domain.model import ExamPeriod
from ..domain.policy import Policy
from .candidates import read_candidates
from .errors import InputErrors, InputProblem
from .plans import read_plans
from .timetable import read_timetable

__all__ = ["InputErrors", "InputProblem", "read_period"]


def read_period(
    policy: Policy, timetable: str | Path, plans: str | Path, candidates: str | Path | None = None
) -> ExamPeriod:
    """The validated exam period, or InputErrors listing every problem found."""
    exams, t_table = read_timetable(timetable, policy)
    plan_map, p_table = read_plans(plans, policy)
    problems = t_table.problems + p_table.problems
    sittings = []
    if candidates is not None:
        # Every exam id in the timetable counts, even one whose row had other problems,
        # so a bad start time is not also reported as an unknown exam in every sitting.
        ids = {cells.get("exam_id", "") for _, cells in t_table}
        sittings, c_table = read_candidates(candidates, ids, t_table.file)
        if any(p.row in (None, 1) for p in t_table.problems):
            # the timetable itself could not be read: every sitting would look unknown
            c_table.problems = [p for p in c_table.problems if not p.message.startswith("unknown exam")]
        problems += c_table.problems
    if problems:
        raise InputErrors(problems)
    return ExamPeriod(tuple(exams), plan_map, tuple(sittings))
