"""candidates.csv: one sitting a row, for offline planning (syncs read LMS rosters)."""

from __future__ import annotations

from collections.abc import Container
from pathlib import Path

from ..domain.model import Sitting
from .csvtable import CsvTable, read_csv
from .values import MAX_ID_LENGTH, parse_id

REQUIRED = ("exam_id", "student_id")


def read_candidates(path: str | Path, exam_ids: Container[str], timetable_name: str) -> tuple[list[Sitting], CsvTable]:
    table = read_csv(path, REQUIRED)
    sittings: list[Sitting] = []
    first_row: dict[tuple[str, str], int] = {}
    for row, cells in table:
        exam_id, student = cells["exam_id"], cells["student_id"]
        ok = True
        if not exam_id:
            table.problem(row, "exam_id", "an exam id is required")
            ok = False
        elif exam_id not in exam_ids:
            table.problem(row, "exam_id", f"unknown exam {exam_id!r} (not in {timetable_name})")
            ok = False
        if not student or len(student) > MAX_ID_LENGTH:
            table.parse(row, cells, "student_id", lambda t: parse_id(t, "a student id"))
            ok = False
        if ok:
            key = (exam_id, student)
            if key in first_row:
                table.problem(row, "student_id", f"student {student} is already listed for exam {exam_id} on row {first_row[key]}")
            else:
                first_row[key] = row
                sittings.append(Sitting(exam_id, student))
    return sittings, table
