"""Fixtures for the page tests: the real app, fake Canvas and Moodle platforms, a stored exam
period, and people who reach the pages only through a full, signed LTI launch.

Courses: canvas:101 (E1, E2; candidates s1, s2, s3), canvas:202 (E3; s5, s6: another course
whose data must never show in 101), moodle:7 (M1; s1, s4). Policy qmu. Plans: s1 25% + 10 min/h
rest breaks, s2 50%, s5 100%.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from lms_bridge.inputs import read_period
from lms_bridge.policies import load_policy
from lms_bridge.store.repositories import import_period
from tests.lti.platforms import INSTRUCTOR, LEARNER, TOOL, FakePlatform, launch
from tests.support import pages
from tests.support.apps import close_app, platform_app
from tests.support.pages import text_of  # noqa: F401 - the tests import it from here

TIMETABLE = """\
exam_id,title,delivery,start,duration_minutes,reading_minutes,course
E1,Anatomy Drop-box,dropbox,2026-12-01 09:30,120,5,canvas:101
E2,Statistics Quiz,quiz,2026-12-01 14:00,90,0,canvas:101
E3,Law New Quiz,new_quiz,2026-12-02 09:30,60,5,canvas:202
M1,Moodle Essay,dropbox,2026-12-03 09:30,120,0,moodle:7
"""
CANDIDATES = """\
exam_id,student_id
E1,s1
E1,s2
E1,s3
E2,s1
E2,s2
E2,s3
E3,s5
E3,s6
M1,s1
M1,s4
"""
PLANS = """\
student_id,extra_time_percent,rest_break_minutes_per_hour
s1,25,10
s2,50,0
s5,100,0
"""
POLICY = "qmu"


@pytest.fixture
def period_files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in (("timetable", TIMETABLE), ("candidates", CANDIDATES), ("plans", PLANS)):
        out[name] = tmp_path / f"{name}.csv"
        out[name].write_text(text, encoding="utf-8")
    return out


def seed_store(app: Flask, files: dict[str, Path]) -> None:
    policy, text = load_policy(POLICY)
    period = read_period(policy, files["timetable"], files["plans"], files["candidates"])
    with app.extensions["lms_bridge.sessions"].begin() as session:
        import_period(session, period, policy_name=POLICY, policy_text=text, actor="test", now=datetime.now(UTC))


@dataclass
class Tool:
    """The app with both fake LMSs registered, driven through a test client."""

    app: Flask
    client: Any
    canvas: FakePlatform
    moodle: FakePlatform

    def platform(self, kind: str) -> FakePlatform:
        return self.canvas if kind == "canvas" else self.moodle

    def launch(self, kind: str = "canvas", *, role: str = INSTRUCTOR, user: str = "t1",
               student_id: str | None = None, course_id: str = "101") -> str:
        return launch(self.client, self.platform(kind), roles=role, user_id=user, student_id=student_id,
                      course_id=course_id, name=f"Person {user}", context_title=f"Course {course_id}")

    def staff(self, kind: str = "canvas", course_id: str = "101", user: str = "t1") -> str:
        return self.launch(kind, role=INSTRUCTOR, user=user, course_id=course_id)

    def learner(self, student_id: str, kind: str = "canvas", course_id: str = "101") -> str:
        return self.launch(kind, role=LEARNER, user=f"u-{student_id}", student_id=student_id, course_id=course_id)

    def get(self, path: str, launch_id: str | None, **params: Any) -> Any:
        if launch_id is not None:
            params["launch"] = launch_id
        return self.client.get(TOOL + path, query_string=params)

    def post(self, path: str, data: dict[str, str], launch_id: str | None = None) -> Any:
        return self.client.post(TOOL + path, query_string={"launch": launch_id} if launch_id else None, data=data)

    @property
    def sessions(self) -> Any:
        return self.app.extensions["lms_bridge.sessions"]


@pytest.fixture
def tool(tmp_path: Path, period_files: dict[str, Path]) -> Iterator[Tool]:
    canvas, moodle = FakePlatform.canvas(), FakePlatform.moodle()
    app = platform_app(tmp_path, canvas, moodle)
    seed_store(app, period_files)
    yield Tool(app, app.test_client(), canvas, moodle)
    close_app(app)


# --- reading pages ------------------------------------------------------------------------------


def hidden_fields(html: str, index: int = 0) -> dict[str, str]:
    """The hidden fields of the index-th form on the page, whatever its method."""
    return pages.hidden_fields(html, index)
