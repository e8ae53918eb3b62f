"""plans.csv: one support plan a row. Errors name the row and column, never the values."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from ..domain.model import SupportPlan
from ..domain.policy import Policy
from .csvtable import CsvTable, read_csv
from .values import parse_id, parse_plan_number

REQUIRED = ("student_id", "extra_time_percent")


def read_plans(path: str | Path, policy: Policy) -> tuple[dict[str, SupportPlan], CsvTable]:
    table = read_csv(path, REQUIRED)
    plans: dict[str, SupportPlan] = {}
    first_row: dict[str, int] = {}
    limits = policy.limits
    for row, cells in table:
        before = len(table.problems)
        student = table.parse(row, cells, "student_id", lambda t: parse_id(t, "a student id"))
        if student is None:
            pass
        elif student in first_row:
            table.problem(row, "student_id", f"this student already has a plan on row {first_row[student]}")
        else:
            first_row[student] = row
        extra = _number(table, row, cells, "extra_time_percent", limits.max_extra_time_percent, required=True)
        rest = _number(table, row, cells, "rest_break_minutes_per_hour", limits.max_rest_break_minutes_per_hour)
        if len(table.problems) == before:
            plans[student] = SupportPlan(student, extra, rest)
    return plans, table


def _number(table: CsvTable, row: int, cells: dict[str, str], column: str, high: int, required: bool = False) -> Fraction:
    def parse(text: str) -> Fraction:
        if not text:
            if required:
                raise ValueError(f"a number is required (0 to {high})")
            return Fraction(0)
        return parse_plan_number(text, high=high)

    return table.parse(row, cells, column, parse) or Fraction(0)
