"""Courses and rosters from the exams office's CSVs, and the recorded reference site."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from adapters.simkit.seed import SeedResult, courses_of_candidates

from .records import EDITING_TEACHER, STUDENT
from .state import MoodleSimulator

_MOODLE_ID = re.compile(r"moodle:(\d+)")

__all__ = ["SeedResult", "seed_from_files", "seed_reference_site"]


def _check_key(key: str) -> None:
    if not _MOODLE_ID.fullmatch(key):
        raise ValueError(f"not a Moodle course id: {key!r}")


def seed_from_files(sim: MoodleSimulator, timetable_csv: str | Path, candidates_csv: str | Path) -> SeedResult:
    """Create every `moodle:<id>` course of the timetable with that id, an editing teacher each, and
    enrol each candidate of the course's exams as a student (idnumber = student_id). Canvas rows
    and exams without a course are skipped."""
    by_course = courses_of_candidates(timetable_csv, candidates_csv, "moodle:", _check_key)
    result = SeedResult()
    with sim.lock:
        for key, students in by_course.items():
            course_id = int(key.split(":", 1)[1])
            if course_id not in sim.courses:
                sim.create_course(f"Course {course_id}", f"C{course_id}", id=course_id)
            result.courses[key] = course_id
            teacher = sim.user_by_idnumber(f"t{course_id}") or sim.create_user(
                "Teacher", str(course_id), idnumber=f"t{course_id}", username=f"teacher{course_id}")
            sim.enrol(course_id, teacher.id, EDITING_TEACHER)
            result.teachers[course_id] = teacher.id
            for student in students:
                user = sim.user_by_idnumber(student) or sim.create_user("Student", student, idnumber=student)
                result.students[student] = user.id
                sim.enrol(course_id, user.id, STUDENT)
                result.enrollments += 1
    return result


REFERENCE_NOW = 1795303704  # when the reference site's course was built (the fixtures' timecreated)


def seed_reference_site(sim: MoodleSimulator) -> dict[str, Any]:
    """The Moodle 4.5.6 site the fixtures were recorded on, ids and all (see moodle-fixtures/README):
    course 2 (C101), teacher 4 (t1), students 5–9 (s1–s5), user 10 not enrolled, group 1 = s1+s2,
    assign 1 (cmid 2), quiz 1 (cmid 3), the Announcements forum (cmid 1). Ids count from 1 from here on."""
    with sim.lock:
        sim.use_plain_ids()
        sim.site_name = "Moodle Real Test Site"
        teacher = sim.create_user("Terry", "Teacher", idnumber="t1", username="teacher1",
                                  email="teacher1@example.com", id=4)
        students = [sim.create_user(f"Student{n}", "Learner", idnumber=f"s{n}", username=f"student{n}",
                                    email=f"student{n}@example.com", id=4 + n) for n in range(1, 6)]
        outsider = sim.create_user("Outside", "Learner", idnumber="x1", username="outsider",
                                   email="outsider@example.com", id=10)
        t = REFERENCE_NOW
        course = sim.create_course("Course 101", "C101", idnumber="C101", id=2, numsections=1, summary="Test course",
                                   startdate=1792711703, enddate=1803079703, news_forum=False, contextid=19,
                                   timecreated=t, section_ids=[1, 2])
        sim.sections[2].name = "Week 1"
        for section in sim.course_sections(course.id):
            section.timemodified = t
        sim.create_forum(course.id, "Announcements", section=0, id=1, cmid=1, contextid=22)
        sim.create_assign(course.id, "Essay 1", section=1, id=1, cmid=2, contextid=20,
                          intro="<p>Essay 1 description</p>", allowsubmissionsfromdate=1795217303,
                          duedate=1795908503, cutoffdate=1796513303, gradingduedate=1797118103, timemodified=t)
        sim.create_quiz(course.id, "Quiz 1", section=1, id=1, cmid=3, contextid=21,
                        intro="<p>Quiz 1 description</p>", timeopen=1795217303, timeclose=1795908503,
                        timelimit=3600, timecreated=t, timemodified=t)
        course.sortorder = 10001
        course.cacherev = t
        sim.enrol(course.id, teacher.id, EDITING_TEACHER)
        for student in students:
            sim.enrol(course.id, student.id, STUDENT)
        sim.create_group(course.id, "Group A", idnumber="G1", members=[students[0].id, students[1].id], id=1)
        for cm in sim.course_modules(course.id):
            cm.added = t
        return {"course": course.id, "teacher": teacher.id, "students": [s.id for s in students],
                "outsider": outsider.id, "group": 1, "assign": 1, "assign_cmid": 2, "quiz": 1, "quiz_cmid": 3,
                "forum_cmid": 1, "sections": [1, 2]}
