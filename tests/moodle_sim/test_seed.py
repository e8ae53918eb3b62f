"""Seeding courses and rosters from the timetable and candidates CSVs."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.moodle.simulator import MoodleSimulator, SimulatorServer, seed_from_files

from .conftest import Rest


def _write(tmp_path: Path) -> tuple[Path, Path]:
    timetable = tmp_path / "timetable.csv"
    timetable.write_text(
        "exam_id,title,delivery,start,duration_minutes,course\n"
        "E1,Organic Chemistry,dropbox,2026-05-18 09:00,60,moodle:7\n"
        "E2,Thermo,quiz,2026-05-21 09:00,120,moodle:7\n"
        "E3,Stats,quiz,2026-05-22 09:00,90,moodle:12\n"
        "E4,Poetry,dropbox,2026-05-23 09:00,60,canvas:35756\n"
        "E5,Offline,dropbox,2026-05-24 09:00,60,\n", encoding="utf-8")
    candidates = tmp_path / "candidates.csv"
    candidates.write_text("student_id,exam_id\nS1,E1\nS2,E1\nS1,E2\nS3,E2\nS1,E3\nS4,E4\nS5,E5\n", encoding="utf-8")
    return timetable, candidates


def test_seed_creates_moodle_courses_and_enrols_candidates(tmp_path: Path) -> None:
    sim = MoodleSimulator()
    result = seed_from_files(sim, *_write(tmp_path))
    assert result.courses == {"moodle:7": 7, "moodle:12": 12}
    assert set(result.students) == {"S1", "S2", "S3"}  # canvas and course-less exams ignored
    assert result.enrollments == 4  # S1 once per course, one user across courses
    roster = [sim.users[e.userid].idnumber for e in sim.course_enrolments(7) if e.role == "student"]
    assert sorted(roster) == ["S1", "S2", "S3"]
    assert [e.role for e in sim.course_enrolments(12)] == ["editingteacher", "student"]
    again = seed_from_files(sim, *_write(tmp_path))  # idempotent
    assert again.students == result.students and len(sim.enrolments) == 6


def test_seeded_roster_over_http_with_idnumbers(tmp_path: Path) -> None:
    with SimulatorServer() as server:
        seed_from_files(server.sim, *_write(tmp_path))
        rest = Rest(server)
        users = rest("core_enrol_get_enrolled_users", courseid=7,
                     options=[{"name": "withcapability", "value": "mod/assign:submit"}])
        assert sorted(u["idnumber"] for u in users) == ["S1", "S2", "S3"]
        assert [s["section"] for s in rest("core_course_get_contents", courseid=7)] == [0, 1, 2, 3, 4]
        rest.close()


def test_seed_refuses_a_bad_moodle_course(tmp_path: Path) -> None:
    timetable = tmp_path / "t.csv"
    timetable.write_text("exam_id,course\nE1,moodle:abc\n", encoding="utf-8")
    candidates = tmp_path / "c.csv"
    candidates.write_text("exam_id,student_id\nE1,S1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="moodle:abc"):
        seed_from_files(MoodleSimulator(), timetable, candidates)


def test_distinct_id_ranges_catch_confused_ids() -> None:
    sim = MoodleSimulator()
    course = sim.create_course("C", "C")
    cm = sim.create_quiz(course.id, "Q")
    assert cm.id != cm.instance and cm.id >= 2000 and cm.instance >= 4000
    assert course.id == 2 and min(sim.users) == 1
