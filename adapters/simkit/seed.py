"""Reading the exams office's CSVs (header per INTERFACES.md) for seeding a simulator."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class SeedResult:
    courses: dict[str, int] = field(default_factory=dict)  # timetable course key -> LMS course id
    students: dict[str, int] = field(default_factory=dict)  # student_id -> LMS user id
    teachers: dict[int, int] = field(default_factory=dict)  # course id -> teacher's user id
    enrollments: int = 0


def courses_of_candidates(timetable_csv: str | Path, candidates_csv: str | Path, prefix: str,
                          check: Callable[[str], None] | None = None) -> dict[str, list[str]]:
    """Course key (timetable rows whose course starts with `prefix`, e.g. "canvas:") -> the
    student ids of its exams' candidates, in file order, each once. `check` may reject a key."""
    exam_course: dict[str, str] = {}
    with open(timetable_csv, newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            key = (row.get("course") or "").strip()
            if key.startswith(prefix):
                if check is not None:
                    check(key)
                exam_course[(row.get("exam_id") or "").strip()] = key
    by_course: dict[str, list[str]] = {key: [] for key in exam_course.values()}
    with open(candidates_csv, newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            key = exam_course.get((row.get("exam_id") or "").strip())
            student = (row.get("student_id") or "").strip()
            if key and student and student not in by_course[key]:
                by_course[key].append(student)
    return by_course
