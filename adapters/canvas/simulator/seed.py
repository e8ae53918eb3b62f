"""Courses and rosters from the exams office's CSVs (header per INTERFACES.md)."""

from __future__ import annotations

import re
from pathlib import Path

from adapters.simkit.seed import SeedResult, courses_of_candidates

from .records import STUDENT, TEACHER
from .state import CanvasSimulator

_CANVAS_ID = re.compile(r"canvas:(\d+)")
_CANVAS_SIS = re.compile(r"canvas:sis_course_id:(\S+)")

__all__ = ["SeedResult", "seed_from_files"]


def seed_from_files(sim: CanvasSimulator, timetable_csv: str | Path, candidates_csv: str | Path) -> SeedResult:
    """Create every `canvas:` course of the timetable, a teacher each, and enrol each candidate
    of the course's exams as an active student (sis_user_id = student_id). Moodle rows are skipped."""
    by_course = courses_of_candidates(timetable_csv, candidates_csv, "canvas:")
    result = SeedResult()
    with sim.lock:
        for key, students in by_course.items():
            course_id = _ensure_course(sim, key)
            result.courses[key] = course_id
            teacher = sim.create_user(f"Teacher {course_id}", f"teacher-{course_id}")
            sim.enroll(course_id, teacher.id, TEACHER)
            result.teachers[course_id] = teacher.id
            for student in students:
                user = sim.user_by_sis_id(student) or sim.create_user(f"Student {student}", student)
                result.students[student] = user.id
                sim.enroll(course_id, user.id, STUDENT)
                result.enrollments += 1
    return result


def _ensure_course(sim: CanvasSimulator, key: str) -> int:
    sis = _CANVAS_SIS.fullmatch(key)
    if sis:
        found = next((c for c in sim.courses.values() if c.sis_course_id == sis.group(1)), None)
        return found.id if found else sim.create_course(f"Course {sis.group(1)}", sis_course_id=sis.group(1)).id
    plain = _CANVAS_ID.fullmatch(key)
    if not plain:
        raise ValueError(f"not a Canvas course: {key!r}")
    course_id = int(plain.group(1))
    if course_id not in sim.courses:
        sim.create_course(f"Course {course_id}", id=course_id)
    return course_id
