"""What the command line accepts and prints: INTERFACES.md's JSON shapes, readable tables,
and the liberties the input format allows (extra columns, any column order, a BOM)."""

from __future__ import annotations

import json
import re

import pytest

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
WINDOW_KEYS = {"exam_id", "student_id", "opens_at", "due_at", "closes_at", "time_limit_minutes", "rules"}
WARNING_KEYS = {"rule", "message", "exam_id", "student_id"}


def ok_json(result) -> dict:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stderr == ""
    return json.loads(result.stdout)


def windows_by_key(doc: dict) -> dict:
    return {(w["exam_id"], w["student_id"]): w for w in doc["windows"]}


# -- JSON: windows -------------------------------------------------------------------------------
def test_windows_json_shape(ws):
    doc = ok_json(ws.windows("nottingham", fmt="json"))
    assert set(doc) == {"policy", "windows", "warnings"}
    assert doc["policy"] == "nottingham"
    assert isinstance(doc["warnings"], list)
    assert len(doc["windows"]) == 5
    for w in doc["windows"]:
        assert set(w) == WINDOW_KEYS
        for key in ("opens_at", "due_at", "closes_at"):
            assert ISO_Z.match(w[key]), w[key]
        assert w["time_limit_minutes"] is None or isinstance(w["time_limit_minutes"], int)
        assert isinstance(w["rules"], list) and all(isinstance(r, str) for r in w["rules"])


def test_windows_json_values(ws):
    ws_ = windows_by_key(ok_json(ws.windows("nottingham", fmt="json")))
    assert ws_["E1", "s1"] == {
        "exam_id": "E1", "student_id": "s1",
        "opens_at": "2026-05-18T08:00:00Z", "due_at": "2026-05-18T10:15:00Z", "closes_at": "2026-05-18T10:15:00Z",
        "time_limit_minutes": None, "rules": ["nottingham.upload", "nottingham.extra_time"],
    }
    assert ws_["E1", "s2"]["due_at"] == "2026-05-18T09:30:00Z"  # 10:30 BST
    assert ws_["E2", "s1"]["time_limit_minutes"] == 180  # quiz: A, not A + U'
    assert ws_["E2", "s1"]["due_at"] == "2026-05-18T16:15:00Z"
    assert ws_["E3", "s2"]["due_at"] == "2026-05-22T08:00:00Z"
    assert ws_["E3", "s2"]["time_limit_minutes"] is None
    assert ws_["E3", "s1"]["due_at"] == "2026-05-22T13:00:00Z"  # Fri 14:00 BST
    assert ws_["E3", "s1"]["rules"] == ["nottingham.due_24h", "nottingham.24h_plan"]


def test_windows_json_warnings_shape(ws):
    ws.write("timetable.csv", "exam_id,title,delivery,start,duration_minutes\n"
             "E1,Maths,dropbox,2026-05-18 10:00,60\nE2,Physics,quiz,2026-05-18 13:30,60\n"
             "E3,Chemistry,dropbox,2026-05-18 16:30,60\n")
    ws.write("candidates.csv", "exam_id,student_id\nE1,s1\nE2,s1\nE3,s1\n")
    doc = ok_json(ws.windows("nottingham", fmt="json"))
    rules = sorted(w["rule"] for w in doc["warnings"])
    assert rules == ["nottingham.max_short_per_day", "nottingham.release_slot"]
    for w in doc["warnings"]:
        assert set(w) == WARNING_KEYS
        assert isinstance(w["message"], str) and w["message"]
    slot = next(w for w in doc["warnings"] if w["rule"] == "nottingham.release_slot")
    assert (slot["exam_id"], slot["student_id"]) == ("E1", None)
    per_day = next(w for w in doc["warnings"] if w["rule"] == "nottingham.max_short_per_day")
    assert per_day["student_id"] == "s1"


def test_instants_in_json_are_utc_across_the_clock_change(ws):
    ws.write("timetable.csv", "exam_id,title,delivery,start,duration_minutes\nE1,Maths,dropbox,2026-03-28 16:30,1440\n")
    ws.write("candidates.csv", "exam_id,student_id\nE1,s2\n")
    (w,) = ok_json(ws.windows("default", fmt="json"))["windows"]
    assert (w["opens_at"], w["due_at"]) == ("2026-03-28T16:30:00Z", "2026-03-29T16:30:00Z")
    assert w["rules"] == ["default.due_24h", "time.clock_change"]


# -- JSON: incident --------------------------------------------------------------------------------
def test_incident_json_shape_and_values(ws):
    doc = ok_json(ws.incident("E2", "2026-05-18 14:00", "2026-05-18 14:20", policy="default"))
    # INTERFACES.md's keys (the command adds exam_id, fraction and disruption_minutes)
    assert {"decision", "rule", "affected", "windows"} <= set(doc)
    assert (doc["decision"], doc["rule"]) == ("extend", "default.incident")
    assert doc["affected"] == ["s1"]
    (w,) = doc["windows"]
    assert set(w) == WINDOW_KEYS
    assert all(ISO_Z.match(w[k]) for k in ("opens_at", "due_at", "closes_at"))
    # default: 120 x 1.5 = 180 + breaks 5 x 4 = 200 min, extended by 20
    assert w["time_limit_minutes"] == 220
    assert w["due_at"] == "2026-05-18T16:10:00Z"
    assert w["rules"][-1] == "default.incident"


@pytest.mark.parametrize(
    ("policy", "frm", "to", "decision"),
    [
        ("nottingham", "2026-05-18 09:30", "2026-05-18 09:40", "reschedule"),
        ("nottingham", "2026-05-18 10:10", "2026-05-18 10:20", "abandon"),  # 70 of 90 min
        ("qmu", "2026-05-18 09:10", "2026-05-18 10:20", "void"),
        ("qmu", "2026-05-18 09:10", "2026-05-18 09:20", "extend"),
        ("qmu", "2026-05-18 09:50", "2026-05-18 09:55", "end"),
    ],
)
def test_incident_decisions_from_the_command_line(ws, policy, frm, to, decision):
    doc = ok_json(ws.incident("E1", frm, to, policy=policy))
    assert doc["decision"] == decision
    assert doc["rule"] == f"{policy}.incident"
    assert doc["affected"]


def test_incident_table(ws):
    result = ws.incident("E1", "2026-05-18 09:30", "2026-05-18 09:40", fmt=None)
    assert result.exit_code == 0, result.stderr
    assert "RESCHEDULE under nottingham.incident" in result.stdout
    assert "2 candidates affected" in result.stdout


# -- tables ------------------------------------------------------------------------------------------
def test_windows_table_is_readable(ws):
    result = ws.windows("nottingham")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["exam", "student", "opens", "due", "closes", "time", "limit", "rules"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    e1s1 = next(line for line in lines if line.startswith("E1") and " s1 " in line)
    assert "Mon 18 May 2026 09:00 BST" in e1s1 and "Mon 18 May 2026 11:15 BST" in e1s1
    assert "nottingham.upload, nottingham.extra_time" in e1s1
    assert any("180 min" in line for line in lines if line.startswith("E2"))
    assert "5 windows; times in Europe/London." in result.stdout


def test_table_lists_warnings(ws):
    ws.write("timetable.csv", "exam_id,title,delivery,start,duration_minutes\nE1,Maths,dropbox,2026-05-18 10:00,60\n")
    ws.write("candidates.csv", "exam_id,student_id\nE1,s1\n")
    result = ws.windows("nottingham")
    assert result.exit_code == 0
    assert "1 warnings:" in result.stdout or "1 warning" in result.stdout
    assert "[nottingham.release_slot]" in result.stdout


# -- what the input format allows -----------------------------------------------------------------------
def _reference(ws):
    return ok_json(ws.windows("nottingham", fmt="json"))


def test_extra_columns_and_free_order_are_accepted(ws):
    expected = _reference(ws)
    ws.write("timetable.csv",
             "room,duration_minutes,Start,delivery,notes,title,exam_id,course\n"
             "A1,60,2026-05-18 09:00,dropbox,x,Maths,E1,canvas:101\n"
             "B2,120,2026-05-18 13:30,quiz,,Physics,E2,moodle:7\n"
             "C3,1440,2026-05-21 09:00,dropbox,\"a, b\",Chemistry,E3,canvas:101\n")
    ws.write("plans.csv", "rest_break_minutes_per_hour,name,extra_time_percent,student_id\n10,Ann,50,s1\n")
    ws.write("candidates.csv", "student_id,seat,exam_id\ns1,1,E1\ns2,2,E1\ns1,3,E2\ns1,4,E3\ns2,5,E3\n")
    assert _reference(ws) == expected


def test_bom_crlf_and_blank_lines_are_accepted(ws):
    expected = _reference(ws)
    for name in ("timetable.csv", "plans.csv", "candidates.csv"):
        text = (ws.root / name).read_text(encoding="utf-8")
        ws.write(name, b"\xef\xbb\xbf" + text.replace("\n", "\r\n\r\n").encode("utf-8"))
    assert _reference(ws) == expected


def test_iso_instants_with_offsets_are_accepted(ws):
    expected = _reference(ws)
    ws.write("timetable.csv",
             "exam_id,title,delivery,start,duration_minutes,course\n"
             "E1,Maths,dropbox,2026-05-18T09:00:00+01:00,60,canvas:101\n"
             "E2,Physics,quiz,2026-05-18T12:30:00Z,120,moodle:7\n"
             "E3,Chemistry,dropbox,2026-05-21 09:00,1440,canvas:101\n")
    assert _reference(ws) == expected


def test_plans_are_optional_per_student_and_policy_by_path(ws):
    from lms_bridge.policies import config_dir

    ws.write("plans.csv", "student_id,extra_time_percent\n")
    doc = ok_json(ws.windows(str(config_dir() / "policies" / "qmu.toml"), fmt="json"))
    assert doc["policy"] == "qmu"
    assert {tuple(w["rules"]) for w in doc["windows"] if w["exam_id"] == "E1"} == {()}


# -- stagger -----------------------------------------------------------------------------------------------
def test_stagger_json(ws):
    ws.write("timetable.csv", "exam_id,title,delivery,start,duration_minutes\n"
             "BIG,Maths,quiz,2026-05-18 09:00,60\nSMALL,Physics,quiz,2026-05-18 09:00,60\n"
             "LONG,Chemistry,dropbox,2026-05-18 09:00,1440\n")
    rows = [f"BIG,b{i}" for i in range(1000)] + [f"SMALL,s{i}" for i in range(400)] + [f"LONG,l{i}" for i in range(300)]
    ws.write("candidates.csv", "exam_id,student_id\n" + "\n".join(rows) + "\n")
    result = ws.run("stagger", "--policy", "nottingham", "--timetable", "timetable.csv",
                    "--candidates", "candidates.csv", "--format", "json")
    doc = ok_json(result)
    (shift,) = doc["shifts"]
    assert (shift["exam_id"], shift["minutes"], shift["rule"]) == ("SMALL", 15, "nottingham.stagger")
    assert (shift["from"], shift["to"]) == ("2026-05-18T08:00:00Z", "2026-05-18T08:15:00Z")
    assert "1700 candidates" in shift["reason"]
