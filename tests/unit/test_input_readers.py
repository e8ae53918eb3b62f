"""The input readers as the core sees them: durations each policy allows, exact plan numbers,
row numbering. (The command line's handling of every bad input is in tests/cli.)"""

from __future__ import annotations

from fractions import Fraction

import pytest

from lms_bridge.inputs import InputErrors, read_period
from lms_bridge.inputs.plans import read_plans
from lms_bridge.inputs.timetable import read_timetable

HEADER = "exam_id,title,delivery,start,duration_minutes\n"


def timetable(kit, tmp_path, monkeypatch, policy, rows):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "timetable.csv").write_text(HEADER + "".join(rows), encoding="utf-8")
    return read_timetable("timetable.csv", kit.policy(policy))


@pytest.mark.parametrize(
    ("policy", "duration", "message"),
    [
        ("nottingham", 90, "90 minutes is not a duration the nottingham policy allows (60, 120, 180 or 1440)"),
        ("nottingham", 240, "must be a 24-hour exam"),
        ("nottingham", 1439, "must be a 24-hour exam"),
        ("nottingham", 2000, "2000 minutes is longer than 24 hours: coursework, not an exam"),
        ("nottingham", 2880, "coursework, not an exam"),
        ("qmu", 2000, "coursework, not an exam"),
        ("default", 1441, "coursework, not an exam"),
        ("nottingham", 0, "below the minimum"),
        ("qmu", -60, "below the minimum"),
    ],
)
def test_durations_the_policy_forbids(kit, tmp_path, monkeypatch, policy, duration, message):
    exams, table = timetable(kit, tmp_path, monkeypatch, policy, [f"E1,Maths,dropbox,2026-05-18 09:00,{duration}\n"])
    assert exams == []
    (problem,) = table.problems
    assert str(problem).startswith("timetable.csv row 2, column duration_minutes: ")
    assert message in str(problem)


@pytest.mark.parametrize(
    ("policy", "duration"),
    [("nottingham", 60), ("nottingham", 120), ("nottingham", 180), ("nottingham", 1440),
     ("qmu", 75), ("qmu", 240), ("qmu", 1439), ("qmu", 1440), ("default", 90), ("default", 1440)],
)
def test_durations_the_policy_allows(kit, tmp_path, monkeypatch, policy, duration):
    exams, table = timetable(kit, tmp_path, monkeypatch, policy, [f"E1,Maths,quiz,2026-05-18 09:00,{duration}\n"])
    assert table.problems == []
    assert exams[0].duration_minutes == duration


def test_optional_columns_default_to_the_policy(kit, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "timetable.csv").write_text(
        "exam_id,title,delivery,start,duration_minutes,reading_minutes,upload_minutes,course\n"
        "E1,Maths,quiz,2026-05-18 09:00,60,,,\n"
        "E2,Physics,dropbox,2026-05-18 13:30,60,5,0,canvas:12\n",
        encoding="utf-8",
    )
    exams, table = read_timetable("timetable.csv", kit.policy("qmu"))
    assert table.problems == []
    e1, e2 = exams
    assert (e1.reading_minutes, e1.upload_minutes, e1.course) == (None, None, None)
    assert (e2.reading_minutes, e2.upload_minutes, e2.course) == (5, 0, "canvas:12")
    assert e1.start == kit.at("2026-05-18 09:00")


def test_plan_numbers_are_exact(kit, write_file):
    path = write_file("plans.csv", "student_id,extra_time_percent,rest_break_minutes_per_hour\ns1,33.3,7.5\ns2,25,\n")
    plans, table = read_plans(path, kit.policy("qmu"))
    assert table.problems == []
    assert plans["s1"].extra_time_percent == Fraction(333, 10)
    assert plans["s1"].rest_break_minutes_per_hour == Fraction(15, 2)
    assert plans["s2"].rest_break_minutes_per_hour == 0


def test_every_problem_in_every_file_is_reported_together(kit, write_file):
    t = write_file("t.csv", HEADER + "E1,Maths,paper,2026-05-18 09:00,60\nE1,Maths,quiz,2026-03-29 01:30,60\n")
    p = write_file("p.csv", "student_id,extra_time_percent\ns1,abc\ns1,20\n")
    c = write_file("c.csv", "exam_id,student_id\nE1,s1\nE9,s1\nE1,s1\n")
    with pytest.raises(InputErrors) as caught:
        read_period(kit.policy("nottingham"), t, p, c)
    where = [(x.file.rsplit("/", 1)[-1], x.row, x.column) for x in caught.value.problems]
    assert where == [
        ("t.csv", 2, "delivery"),
        ("t.csv", 3, "exam_id"),
        ("t.csv", 3, "start"),
        ("p.csv", 2, "extra_time_percent"),
        ("p.csv", 3, "student_id"),
        ("c.csv", 3, "exam_id"),
        ("c.csv", 4, "student_id"),
    ]
