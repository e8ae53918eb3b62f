"""Every class of bad input: exit code 2, stderr naming file, row and column, no traceback,
nothing on stdout (INTERFACES.md: "applies nothing when any input is bad")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lms_bridge.policies import config_dir

TT_HEAD = "exam_id,title,delivery,start,duration_minutes\n"
PLAN_HEAD = "student_id,extra_time_percent,rest_break_minutes_per_hour\n"


def timetable(*rows: str, head: str = TT_HEAD) -> str:
    return head + "".join(r + "\n" for r in rows)


# (policy, {file: content}, fragments expected on stderr)
CASES = {
    "nonexistent local time": (
        "nottingham",
        {"timetable.csv": timetable("E1,Maths,dropbox,2026-05-18 09:00,60", "E2,Physics,quiz,2026-03-29 01:30,60")},
        ["timetable.csv row 3, column start: 2026-03-29 01:30 does not exist in Europe/London (clocks go forward)"],
    ),
    "ambiguous local time": (
        "qmu",
        {"timetable.csv": timetable("E1,Maths,dropbox,2026-10-25 01:30,60")},
        ["timetable.csv row 2, column start: 2026-10-25 01:30 is ambiguous in Europe/London"],
    ),
    "nonexistent local time 2027": (
        "default",
        {"timetable.csv": timetable("E1,Maths,dropbox,2027-03-28 01:15,60")},
        ["timetable.csv row 2, column start: 2027-03-28 01:15 does not exist in Europe/London"],
    ),
    "not a date": (
        "nottingham",
        {"timetable.csv": timetable("E1,Maths,dropbox,2026-02-30 09:00,60")},
        ["timetable.csv row 2, column start:", "not a real date"],
    ),
    "not a time at all": (
        "nottingham",
        {"timetable.csv": timetable("E1,Maths,dropbox,next monday,60")},
        ["timetable.csv row 2, column start:", "YYYY-MM-DD HH:MM"],
    ),
    "unknown delivery": (
        "nottingham",
        {"timetable.csv": timetable("E1,Maths,paper,2026-05-18 09:00,60")},
        ["timetable.csv row 2, column delivery: unknown delivery 'paper'"],
    ),
    "duplicate exam ids": (
        "nottingham",
        {"timetable.csv": timetable("E1,Maths,dropbox,2026-05-18 09:00,60", "E1,Physics,quiz,2026-05-18 13:30,60")},
        ["timetable.csv row 3, column exam_id:", "already used on row 2"],
    ),
    "missing title": (
        "nottingham",
        {"timetable.csv": timetable("E1,,dropbox,2026-05-18 09:00,60")},
        ["timetable.csv row 2, column title:"],
    ),
    "bad course": (
        "nottingham",
        {"timetable.csv": timetable("E1,Maths,dropbox,2026-05-18 09:00,60,blackboard:1",
                                    head="exam_id,title,delivery,start,duration_minutes,course\n")},
        ["timetable.csv row 2, column course:"],
    ),
    "duration not a number": (
        "nottingham",
        {"timetable.csv": timetable("E1,Maths,dropbox,2026-05-18 09:00,sixty")},
        ["timetable.csv row 2, column duration_minutes:", "not a whole number"],
    ),
    "duration with a decimal": (
        "qmu",
        {"timetable.csv": timetable("E1,Maths,dropbox,2026-05-18 09:00,60.5")},
        ["timetable.csv row 2, column duration_minutes:"],
    ),
    "negative duration": (
        "qmu",
        {"timetable.csv": timetable("E1,Maths,dropbox,2026-05-18 09:00,-60")},
        ["timetable.csv row 2, column duration_minutes:", "below the minimum"],
    ),
    "nottingham 90 minutes": (
        "nottingham",
        {"timetable.csv": timetable("E1,Maths,dropbox,2026-05-18 09:00,90")},
        ["timetable.csv row 2, column duration_minutes: 90 minutes is not a duration the nottingham policy allows"],
    ),
    "nottingham 240 minutes": (
        "nottingham",
        {"timetable.csv": timetable("E1,Maths,dropbox,2026-05-18 09:00,240")},
        ["timetable.csv row 2, column duration_minutes:", "must be a 24-hour exam"],
    ),
    "coursework": (
        "nottingham",
        {"timetable.csv": timetable("E1,Maths,dropbox,2026-05-18 09:00,2000")},
        ["timetable.csv row 2, column duration_minutes:", "coursework, not an exam"],
    ),
    "absurd reading time": (
        "qmu",
        {"timetable.csv": timetable("E1,Maths,quiz,2026-05-18 09:00,60,600",
                                    head="exam_id,title,delivery,start,duration_minutes,reading_minutes\n")},
        ["timetable.csv row 2, column reading_minutes:", "limit of 60"],
    ),
    "negative reading time": (
        "qmu",
        {"timetable.csv": timetable("E1,Maths,quiz,2026-05-18 09:00,60,-5",
                                    head="exam_id,title,delivery,start,duration_minutes,reading_minutes\n")},
        ["timetable.csv row 2, column reading_minutes:", "below the minimum"],
    ),
    "reading time not a number": (
        "qmu",
        {"timetable.csv": timetable("E1,Maths,quiz,2026-05-18 09:00,60,5m",
                                    head="exam_id,title,delivery,start,duration_minutes,reading_minutes\n")},
        ["timetable.csv row 2, column reading_minutes:"],
    ),
    "absurd upload time": (
        "nottingham",
        {"timetable.csv": timetable("E1,Maths,dropbox,2026-05-18 09:00,60,5000",
                                    head="exam_id,title,delivery,start,duration_minutes,upload_minutes\n")},
        ["timetable.csv row 2, column upload_minutes:", "limit of 240"],
    ),
    "missing timetable column": (
        "nottingham",
        {"timetable.csv": "exam_id,title,delivery,duration_minutes\nE1,Maths,dropbox,60\n"},
        ["timetable.csv row 1: missing column start"],
    ),
    "missing plans column": (
        "nottingham",
        {"plans.csv": "student_id,rest_break_minutes_per_hour\ns1,10\n"},
        ["plans.csv row 1: missing column extra_time_percent"],
    ),
    "missing candidates column": (
        "nottingham",
        {"candidates.csv": "exam,student_id\nE1,s1\n"},
        ["candidates.csv row 1: missing column exam_id"],
    ),
    "semicolon separated": (
        "nottingham",
        {"candidates.csv": "exam_id;student_id\nE1;s1\n"},
        ["candidates.csv row 1: missing columns exam_id, student_id", "';' or tabs"],
    ),
    "duplicate header": (
        "nottingham",
        {"candidates.csv": "exam_id,student_id,exam_id\nE1,s1,E1\n"},
        ["candidates.csv row 1, column exam_id: appears twice"],
    ),
    "duplicate student in plans": (
        "nottingham",
        {"plans.csv": PLAN_HEAD + "s1,50,10\ns2,25,0\ns1,77,0\n"},
        ["plans.csv row 4, column student_id:", "already has a plan on row 2"],
    ),
    "duplicate sitting": (
        "nottingham",
        {"candidates.csv": "exam_id,student_id\nE1,s1\nE2,s1\nE1,s1\n"},
        ["candidates.csv row 4, column student_id:", "already listed for exam E1 on row 2"],
    ),
    "unknown exam in candidates": (
        "nottingham",
        {"candidates.csv": "exam_id,student_id\nE1,s1\nE9,s2\n"},
        ["candidates.csv row 3, column exam_id: unknown exam 'E9' (not in timetable.csv)"],
    ),
    "missing student id": (
        "nottingham",
        {"candidates.csv": "exam_id,student_id\nE1,\n"},
        ["candidates.csv row 2, column student_id:"],
    ),
    "latin-1 bytes": (
        "nottingham",
        {"timetable.csv": (TT_HEAD + "E1,Maths,dropbox,2026-05-18 09:00,60\nE2,Math\xe9matiques,dropbox,2026-05-18 13:30,60\n").encode("latin-1")},
        ["timetable.csv row 3:", "not UTF-8", "CSV UTF-8"],
    ),
    "utf-16": (
        "nottingham",
        {"plans.csv": PLAN_HEAD.encode("utf-16")},
        ["plans.csv: is UTF-16 text"],
    ),
    "empty file": (
        "nottingham",
        {"candidates.csv": ""},
        ["candidates.csv: empty: a header row is required"],
    ),
    "arabic-indic digits in a duration": (
        "nottingham",
        {"timetable.csv": timetable("E1,Maths,dropbox,2026-05-18 09:00,\u0666\u0660")},
        ["timetable.csv row 2, column duration_minutes:", "not a whole number"],
    ),
    "a 5000-digit duration": (
        "nottingham",
        {"timetable.csv": timetable("E1,Maths,dropbox,2026-05-18 09:00," + "9" * 5000)},
        ["timetable.csv row 2, column duration_minutes:", "not a whole number"],
    ),
    "fractional seconds in a start": (
        "nottingham",
        {"timetable.csv": timetable("E1,Maths,dropbox,2026-05-18T09:00:30.5+01:00,60")},
        ["timetable.csv row 2, column start:", "not on a whole minute"],
    ),
    "plan decimals beyond what is stored": (
        "nottingham",
        {"plans.csv": PLAN_HEAD + "s1,33.3333,0\n"},
        ["plans.csv row 2, column extra_time_percent: use at most 3 decimal places"],
    ),
    "an exam id longer than 255 characters": (
        "nottingham",
        {"timetable.csv": timetable("E" + "x" * 300 + ",Maths,dropbox,2026-05-18 09:00,60")},
        ["timetable.csv row 2, column exam_id:", "longer than 255 characters"],
    ),
    "broken quoting": (
        "nottingham",
        {"candidates.csv": 'exam_id,student_id\nE1,"s1\n'},
        ["candidates.csv", "not valid CSV"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_exits_2_naming_file_row_and_column(ws, bad_input, case):
    policy, files, fragments = CASES[case]
    for name, content in files.items():
        ws.write(name, content)
    stderr = bad_input(ws.windows(policy), *fragments)
    assert "nothing was used" in stderr


PLAN_VALUE_CASES = [
    ("s1,400,0", "400", "extra_time_percent"),  # above the limit of 300
    ("s1,abc,0", "abc", "extra_time_percent"),
    ("s1,-15,0", "-15", "extra_time_percent"),
    ("s1,12.5.1,0", "12.5.1", "extra_time_percent"),
    ("s1,1e3,0", "1e3", "extra_time_percent"),
    ("s1,,0", None, "extra_time_percent"),
    ("s1,\uff15\uff10,0", "\uff15\uff10", "extra_time_percent"),  # full-width digits are not numbers here
    ("s1,25,45", "45", "rest_break_minutes_per_hour"),  # above the limit of 30
    ("s1,25,ten", "ten", "rest_break_minutes_per_hour"),
    ("s1,25,-4", "-4", "rest_break_minutes_per_hour"),
]


@pytest.mark.parametrize(("row", "value", "column"), PLAN_VALUE_CASES)
def test_plan_values_never_appear_in_errors(ws, bad_input, row, value, column):
    ws.write("plans.csv", PLAN_HEAD + "s9,10,5\n" + row + "\n")
    stderr = bad_input(ws.windows("qmu"), f"plans.csv row 3, column {column}:")
    if value is not None:
        assert value not in stderr


def test_duplicate_plan_does_not_show_either_plan(ws, bad_input):
    ws.write("plans.csv", PLAN_HEAD + "s1,55,7\ns1,66,8\n")
    stderr = bad_input(ws.windows("qmu"), "plans.csv row 3, column student_id:")
    assert "55" not in stderr and "66" not in stderr


def test_every_problem_is_reported_at_once(ws, bad_input):
    ws.write("timetable.csv", timetable("E1,Maths,paper,2026-05-18 09:00,60", "E2,Physics,quiz,2026-03-29 01:30,90"))
    ws.write("plans.csv", PLAN_HEAD + "s1,abc,0\n")
    ws.write("candidates.csv", "exam_id,student_id\nE1,s1\nE7,s1\n")
    stderr = bad_input(
        ws.windows("nottingham"),
        "5 problems in the input; nothing was used.",
        "timetable.csv row 2, column delivery:",
        "timetable.csv row 3, column start:",
        "timetable.csv row 3, column duration_minutes:",
        "plans.csv row 2, column extra_time_percent:",
        "candidates.csv row 3, column exam_id: unknown exam 'E7'",
    )
    assert "unknown exam 'E2'" not in stderr  # a bad row still defines its exam id


def test_rows_are_numbered_as_a_spreadsheet_shows_them(ws, bad_input):
    ws.write("timetable.csv", TT_HEAD + 'E1,"Maths,\nPaper 1",dropbox,2026-05-18 09:00,60\n\nE2,Physics,paper,2026-05-18 13:30,60\n')
    bad_input(ws.windows("nottingham"), "timetable.csv row 4, column delivery:")


def test_an_unreadable_timetable_is_not_buried_under_unknown_exams(ws, bad_input):
    stderr = bad_input(ws.windows("nottingham", timetable="missing.csv"), "missing.csv: no such file")
    assert "unknown exam" not in stderr


def test_missing_file(ws, bad_input):
    bad_input(ws.windows("nottingham", plans="no-such-plans.csv"), "no-such-plans.csv: no such file")


def test_a_folder_instead_of_a_file(ws, bad_input):
    (ws.root / "folder.csv").mkdir()
    bad_input(ws.windows("nottingham", candidates="folder.csv"), "folder.csv")


def test_unknown_policy_name(ws, bad_input):
    bad_input(ws.windows("nonesuch"), "policy 'nonesuch'", "known policies: default, nottingham, qmu")


def test_broken_policy_toml(ws, bad_input):
    ws.write("broken.toml", 'name = "broken\nlate_minutes = 0\n')
    bad_input(ws.windows("broken.toml"), "broken.toml:")


@pytest.mark.parametrize(
    ("replace", "by", "fragment"),
    [
        ("late_minutes = 0", "late_minutes = -5", "late_minutes"),
        ('due = "next_exam_day"', 'due = "whenever"', "twenty_four_hour.due"),
        ('timezone = "Europe/London"', 'timezone = "Europe/Atlantis"', "Europe/Atlantis"),
        ('threshold = "3/4"', 'threshold = "three quarters"', "incident.threshold"),
        ("[lint]", "surprise = 1\n[lint]", "surprise"),
    ],
)
def test_invalid_policy_file(ws, bad_input, replace, by, fragment):
    text = (config_dir() / "policies" / "nottingham.toml").read_text(encoding="utf-8")
    assert replace in text
    ws.write("mine.toml", text.replace(replace, by, 1))
    bad_input(ws.windows("mine.toml"), "mine.toml", fragment)


def test_policy_file_not_utf8(ws, bad_input):
    ws.write("latin.toml", 'name = "caf\xe9"\n'.encode("latin-1"))
    bad_input(ws.windows("latin.toml"), "latin.toml", "not UTF-8")


# -- incident ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("exam", "frm", "to", "fragments"),
    [
        ("E1", "2026-03-29 01:30", "2026-05-18 10:00", ["--from: 2026-03-29 01:30 does not exist in Europe/London"]),
        ("E1", "2026-05-18 09:30", "2026-10-25 01:30", ["--to: 2026-10-25 01:30 is ambiguous"]),
        ("E1", "half past nine", "2026-05-18 10:00", ["--from:"]),
        ("E9", "2026-05-18 09:30", "2026-05-18 10:00", ["exam 'E9' is not in the timetable"]),
        ("E1", "2026-05-18 10:00", "2026-05-18 09:30", ["end after it starts"]),
        ("E1", "2026-05-18 08:30", "2026-05-18 09:30", ["before the exam opens"]),
        ("E1", "2026-05-18 15:00", "2026-05-18 15:30", ["after every candidate's window has closed"]),
    ],
)
def test_bad_incident(ws, bad_input, exam, frm, to, fragments):
    bad_input(ws.incident(exam, frm, to), *fragments)


def test_incident_with_bad_files_reports_the_files(ws, bad_input):
    ws.write("candidates.csv", "exam_id,student_id\nE1,s1\nE1,s1\n")
    bad_input(ws.incident("E1", "2026-05-18 09:30", "2026-05-18 09:45"), "candidates.csv row 3, column student_id:")


# -- the real process --------------------------------------------------------------------------
def _module(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, "-m", "lms_bridge", *args], cwd=cwd, capture_output=True, text=True, timeout=60,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )


def test_python_m_lms_bridge_bad_input(ws):
    ws.write("timetable.csv", timetable("E1,Maths,dropbox,2026-03-29 01:30,60"))
    done = _module(["windows", "--policy", "nottingham", "--timetable", "timetable.csv", "--plans", "plans.csv",
                    "--candidates", "candidates.csv", "--format", "json"], ws.root)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert ("timetable.csv row 2, column start: 2026-03-29 01:30 does not exist in Europe/London "
            "(clocks go forward)") in done.stderr


def test_python_m_lms_bridge_good_input(ws):
    done = _module(["windows", "--policy", "nottingham", "--timetable", "timetable.csv", "--plans", "plans.csv",
                    "--candidates", "candidates.csv", "--format", "json"], ws.root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('{"policy": "nottingham"')
