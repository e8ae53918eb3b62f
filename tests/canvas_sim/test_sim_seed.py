"""Seeding courses and rosters from the timetable and candidates CSVs."""

from __future__ import annotations

from pathlib import Path

import httpx

from adapters.canvas.simulator import CanvasSimulator, SimulatorServer, seed_from_files


def _write(tmp_path: Path) -> tuple[Path, Path]:
    timetable = tmp_path / "timetable.csv"
    timetable.write_text(
        "exam_id,title,delivery,start,duration_minutes,course\n"
        "E1,Organic Chemistry,dropbox,2026-05-18 09:00,60,canvas:35756\n"
        "E2,Thermo,quiz,2026-05-21 09:00,120,canvas:35756\n"
        "E3,Stats,new_quiz,2026-05-22 09:00,90,canvas:sis_course_id:STAT-2026\n"
        "E4,Poetry,dropbox,2026-05-23 09:00,60,moodle:12\n"
        "E5,Offline,dropbox,2026-05-24 09:00,60,\n", encoding="utf-8")
    candidates = tmp_path / "candidates.csv"
    candidates.write_text(
        "student_id,exam_id\nS1,E1\nS2,E1\nS1,E2\nS3,E2\nS1,E3\nS4,E4\nS5,E5\n", encoding="utf-8")
    return timetable, candidates


def test_seed_creates_canvas_courses_and_enrols_candidates(tmp_path: Path) -> None:
    sim = CanvasSimulator()
    result = seed_from_files(sim, *_write(tmp_path))
    assert set(result.courses) == {"canvas:35756", "canvas:sis_course_id:STAT-2026"}
    assert result.courses["canvas:35756"] == 35756
    stats_course = sim.course("sis_course_id:STAT-2026")
    assert set(result.students) == {"S1", "S2", "S3"}  # moodle and course-less exams ignored
    assert result.enrollments == 4  # S1 once per course, one user across courses
    roster = sim.course_enrollments(35756, types=["StudentEnrollment"])
    assert sorted(sim.users[e.user_id].sis_user_id or "" for e in roster) == ["S1", "S2", "S3"]
    assert [sim.users[e.user_id].sis_user_id for e in sim.course_enrollments(stats_course.id)
            if e.type == "StudentEnrollment"] == ["S1"]
    assert all(sim.course_enrollments(c, types=["TeacherEnrollment"]) for c in result.courses.values())


def test_seeded_roster_over_http(tmp_path: Path) -> None:
    with SimulatorServer() as server:
        seed_from_files(server.sim, *_write(tmp_path))
        rows = httpx.get(f"{server.api_url}/courses/35756/enrollments",
                         params={"type[]": "StudentEnrollment", "sis_user_id[]": "S2"},
                         headers={"Authorization": f"Bearer {server.token}"}).json()
        assert [r["user"]["sis_user_id"] for r in rows] == ["S2"]
