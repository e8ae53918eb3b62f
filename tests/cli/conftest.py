"""Helpers for driving the real command line (click's CliRunner) on files in a temporary folder.

Each test runs inside its own folder (the working directory), so file names in messages are
exactly the names given: `timetable.csv row 7, column start: ...`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lms_bridge.cli import main

TIMETABLE = """\
exam_id,title,delivery,start,duration_minutes,course
E1,Maths,dropbox,2026-05-18 09:00,60,canvas:101
E2,Physics,quiz,2026-05-18 13:30,120,moodle:7
E3,Chemistry,dropbox,2026-05-21 09:00,1440,canvas:101
"""
PLANS = """\
student_id,extra_time_percent,rest_break_minutes_per_hour
s1,50,10
"""
CANDIDATES = """\
exam_id,student_id
E1,s1
E1,s2
E2,s1
E3,s1
E3,s2
"""


@dataclass
class Workspace:
    """A folder holding a valid timetable.csv, plans.csv and candidates.csv to start from."""

    root: Path

    def write(self, name: str, content: str | bytes) -> Path:
        path = self.root / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(main, list(args))

    def windows(self, policy: str = "nottingham", *, timetable: str = "timetable.csv", plans: str = "plans.csv",
                candidates: str = "candidates.csv", fmt: str | None = None) -> Result:
        args = ["windows", "--policy", policy, "--timetable", timetable, "--plans", plans, "--candidates", candidates]
        return self.run(*args, *(["--format", fmt] if fmt else []))

    def incident(self, exam: str, frm: str, to: str, policy: str = "nottingham", fmt: str | None = "json") -> Result:
        args = ["incident", "--policy", policy, "--timetable", "timetable.csv", "--plans", "plans.csv",
                "--candidates", "candidates.csv", "--exam", exam, "--from", frm, "--to", to]
        return self.run(*args, *(["--format", fmt] if fmt else []))


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.chdir(tmp_path)
    space = Workspace(tmp_path)
    space.write("timetable.csv", TIMETABLE)
    space.write("plans.csv", PLANS)
    space.write("candidates.csv", CANDIDATES)
    return space


def _check_bad_input(result: Result, *expected: str) -> str:
    """Exit 2, a clean message on stderr containing every `expected` fragment, nothing on stdout."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit), result.exception  # no crash underneath
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    for fragment in expected:
        assert fragment in result.stderr, (fragment, result.stderr)
    return result.stderr


@pytest.fixture(scope="session")
def bad_input() -> Callable[..., str]:
    return _check_bad_input
