"""`lms-bridge simulate moodle` as a process: it starts, seeds, and answers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(*args: str) -> tuple[subprocess.Popen[str], int]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "lms_bridge", "simulate", "moodle", "--port", str(port), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ | {"PYTHONPATH": str(ROOT)})
    return proc, port


def _call(port: int, token: str, function: str, **params: str) -> httpx.Response:
    data = {"wstoken": token, "wsfunction": function, "moodlewsrestformat": "json", **params}
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.post(f"http://127.0.0.1:{port}/webservice/rest/server.php", data=data, timeout=5)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def test_simulate_moodle_defaults_to_4_5_with_the_plugin(tmp_path: Path) -> None:
    timetable = tmp_path / "timetable.csv"
    timetable.write_text("exam_id,title,delivery,start,duration_minutes,course\n"
                         "E1,Chemistry,quiz,2026-05-18 09:00,60,moodle:7\n", encoding="utf-8")
    candidates = tmp_path / "candidates.csv"
    candidates.write_text("exam_id,student_id\nE1,S1\nE1,S2\n", encoding="utf-8")
    proc, port = _start("--token", "tok", "--timetable", str(timetable), "--candidates", str(candidates))
    try:
        info = _call(port, "tok", "core_webservice_get_site_info").json()
        assert info["release"].startswith("4.5.")
        assert "local_lmsbridge_upsert_activity" in [f["name"] for f in info["functions"]]
        users = _call(port, "tok", "core_enrol_get_enrolled_users", courseid="7").json()
        assert sorted(u.get("idnumber") for u in users if u["roles"][0]["shortname"] == "student") == ["S1", "S2"]
    finally:
        out = _stop(proc)
    assert "token: tok" in out and "courses: 7" in out


def test_simulate_moodle_version_and_without_plugin() -> None:
    proc, port = _start("--moodle-version", "5.3", "--without-plugin")
    try:
        info = _call(port, "sim-token", "core_webservice_get_site_info").json()
        names = [f["name"] for f in info["functions"]]
        assert info["release"].startswith("5.3") and "mod_assign_save_overrides" in names
        assert not any(n.startswith("local_lmsbridge") for n in names)
    finally:
        _stop(proc)


@pytest.mark.parametrize("args", [["--moodle-version", "4.4"], ["--timetable", "x.csv"]])
def test_simulate_moodle_bad_options(args: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "lms_bridge", "simulate", "moodle", "--port", "1", *args],
                            capture_output=True, text=True, timeout=60, env=os.environ | {"PYTHONPATH": str(ROOT)})
    assert result.returncode != 0 and result.stderr
