"""Fixtures for the exams office's pages: the real app (office blueprint registered as the lead
will: `office.register(app)`), fake Canvas and Moodle platforms, and people who reach the pages
only through full, signed LTI launches (tests/lti/platforms.py).

The period is written relative to now (so an import queues reconciles for its courses):
E1 Anatomy (drop-box, canvas:101) and E3 Ethics (drop-box, canvas:102) release together in
20 hours, E2 Statistics (quiz, canvas:101) in 3 days, M1 (drop-box, moodle:7) in 4 days.
Candidates s1-s6 sit E1 and E2, s4-s9 sit E3, s1 and s10 sit M1. Plans: s1, s2 and s5, with
numbers no id, count or time in these tests contains (the log checks look for them).

People: the exams officer `officer-1` (listed in EXAMS_OFFICE, an Instructor of canvas:101),
an Administrator of canvas:101 by course role, a Moodle officer listed by identity, the course
Instructor `t1` (not office) and the Learner s1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms_bridge.domain.model import ExamPeriod
from lms_bridge.inputs import read_period
from lms_bridge.policies import load_policy
from lms_bridge.store.repositories import import_period
from lms_bridge.web import office
from tests.lti.platforms import (
    CANVAS_STAFF_PERMISSIONS,
    INSTRUCTOR,
    LEARNER,
    ROLE_CONTEXT_ADMIN,
    ROLE_SYS_USER,
    TOOL,
    FakePlatform,
    launch,
)
from tests.support import pages, workers
from tests.support.apps import close_app, platform_app
from tests.support.pages import forms_of, text_of  # noqa: F401 - the tests import them from here
from tests.support.workers import run_until_idle  # noqa: F401

POLICY = "qmu"
PLAN_PERCENT = "37.5"
PLAN_BREAKS = "7.25"
PLANS = f"""\
student_id,extra_time_percent,rest_break_minutes_per_hour
s1,{PLAN_PERCENT},{PLAN_BREAKS}
s2,{PLAN_PERCENT},0
s5,{PLAN_PERCENT},{PLAN_BREAKS}
"""
OFFICER = "officer-1"
MOODLE_OFFICER = "officer-m"


def soon(hours: float) -> datetime:
    """Now + hours, on a whole minute."""
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)


def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M+00:00")


@dataclass
class Files:
    folder: Path
    starts: dict[str, datetime] = field(default_factory=dict)

    @property
    def timetable(self) -> Path:
        return self.folder / "timetable.csv"

    @property
    def plans(self) -> Path:
        return self.folder / "plans.csv"

    @property
    def candidates(self) -> Path:
        return self.folder / "candidates.csv"

    def write(self, e3_title: str = "Ethics") -> None:
        """`e3_title="Anatomy"`: E3 is the same paper as E1, sat at the same time in canvas:102."""
        slot = soon(20)
        self.starts = {"E1": slot, "E2": soon(72), "E3": slot, "M1": soon(96)}
        rows = [("E1", "Anatomy", "dropbox", 90, "canvas:101"), ("E2", "Statistics", "quiz", 60, "canvas:101"),
                ("E3", e3_title, "dropbox", 60, "canvas:102"), ("M1", "Moodle Essay", "dropbox", 120, "moodle:7")]
        lines = ["exam_id,title,delivery,start,duration_minutes,course"]
        lines += [f"{e},{t},{d},{iso(self.starts[e])},{m},{c}" for e, t, d, m, c in rows]
        self.timetable.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.plans.write_text(PLANS, encoding="utf-8")
        sittings = ([f"{e},s{i}" for e in ("E1", "E2") for i in range(1, 7)] + [f"E3,s{i}" for i in range(4, 10)]
                    + ["M1,s1", "M1,s10"])
        self.candidates.write_text("exam_id,student_id\n" + "\n".join(sittings) + "\n", encoding="utf-8")

    def period(self, policy: str = POLICY) -> ExamPeriod:
        pol, _ = load_policy(policy)
        return read_period(pol, self.timetable, self.plans, self.candidates)


@pytest.fixture
def files(tmp_path: Path) -> Files:
    folder = tmp_path / "input"
    folder.mkdir()
    found = Files(folder)
    found.write()
    return found


def seed_store(app: Flask, files: Files, *, policy: str = POLICY, policy_text: str | None = None,
               policy_name: str | None = None) -> None:
    pol, text = load_policy(policy)
    period = read_period(pol, files.timetable, files.plans, files.candidates)
    with app.extensions["lms_bridge.sessions"].begin() as session:
        import_period(session, period, policy_name=policy_name or pol.name, policy_text=policy_text or text,
                      actor="test", now=datetime.now(UTC))


@dataclass
class Office:
    """The app with both fake LMSs registered and the office pages, through a test client."""

    app: Flask
    client: Any
    canvas: FakePlatform
    moodle: FakePlatform

    def officer(self, user: str = OFFICER, course_id: str = "101") -> str:
        return launch(self.client, self.canvas, roles=INSTRUCTOR, user_id=user, course_id=course_id,
                      name="Olive Officer", context_title=f"Course {course_id}")

    def administrator(self, course_id: str = "101") -> str:
        return launch(self.client, self.canvas, roles=[ROLE_CONTEXT_ADMIN, ROLE_SYS_USER], user_id="admin-1",
                      course_id=course_id, permissions=CANVAS_STAFF_PERMISSIONS, name="Ada Admin")

    def moodle_officer(self) -> str:
        return launch(self.client, self.moodle, roles=INSTRUCTOR, user_id=MOODLE_OFFICER, course_id="7")

    def instructor(self, course_id: str = "101") -> str:
        return launch(self.client, self.canvas, roles=INSTRUCTOR, user_id="t1", course_id=course_id)

    def learner(self, student_id: str = "s1") -> str:
        return launch(self.client, self.canvas, roles=LEARNER, user_id=f"u-{student_id}", student_id=student_id,
                      course_id="101")

    def get(self, path: str, launch_id: str | None, **params: Any) -> Any:
        if launch_id is not None:
            params["launch"] = launch_id
        return self.client.get(TOOL + path, query_string=params)

    def post(self, path: str, data: dict[str, Any], launch_id: str | None = None, **kwargs: Any) -> Any:
        return self.client.post(TOOL + path, query_string={"launch": launch_id} if launch_id else None, data=data,
                                **kwargs)

    def form(self, path: str, launch_id: str, index: int = 0, **params: Any) -> dict[str, str]:
        """The hidden fields (launch, CSRF token, ...) of a form on the page."""
        page = self.get(path, launch_id, **params)
        assert page.status_code == 200, page.get_data(as_text=True)[:400]
        return hidden_fields(page.get_data(as_text=True), index)

    @property
    def sessions(self) -> Any:
        return self.app.extensions["lms_bridge.sessions"]

    @property
    def engine(self) -> Any:
        return self.app.extensions["lms_bridge.engine"]

    def count(self, model: Any, *where: Any) -> int:
        with Session(self.engine) as session:
            return session.scalar(select(func.count()).select_from(model).where(*where))


def office_app(tmp_path: Path, canvas: FakePlatform, moodle: FakePlatform, **config: Any) -> Flask:
    settings = {"EXAMS_OFFICE": [f"{canvas.issuer}|{OFFICER}", f"{moodle.issuer}|{MOODLE_OFFICER}"],
                "LMS_BRIDGE_POLICY": POLICY}
    settings.update(config)
    app = platform_app(tmp_path, canvas, moodle, **settings)
    office.register(app)
    return app


@pytest.fixture
def tool(tmp_path: Path) -> Iterator[Office]:
    canvas, moodle = FakePlatform.canvas(), FakePlatform.moodle()
    app = office_app(tmp_path, canvas, moodle)
    yield Office(app, app.test_client(), canvas, moodle)
    close_app(app)


# --- reading pages ------------------------------------------------------------------------------


def hidden_fields(html: str, index: int = 0, *, method: str = "post") -> dict[str, str]:
    """The hidden fields of the index-th form with this method."""
    return pages.hidden_fields(html, index, method=method)


class _Tables(HTMLParser):
    """Every table: its attributes and its rows, each a list of cell texts (th and td)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, Any]] = []
        self._stack: list[dict[str, Any]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            table = {"attrs": dict(attrs), "rows": [], "caption": ""}
            self.tables.append(table)
            self._stack.append(table)
        elif tag == "tr" and self._stack:
            self._stack[-1]["rows"].append([])
        elif tag in ("td", "th") and self._stack and self._stack[-1]["rows"]:
            self._cell = []
        elif tag == "caption" and self._stack:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._stack:
            self._stack.pop()
        elif tag in ("td", "th") and self._cell is not None and self._stack:
            self._stack[-1]["rows"][-1].append(re.sub(r"\s+", " ", "".join(self._cell)).strip())
            self._cell = None
        elif tag == "caption" and self._cell is not None and self._stack:
            self._stack[-1]["caption"] = re.sub(r"\s+", " ", "".join(self._cell)).strip()
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables_of(html: str) -> list[dict[str, Any]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def table(html: str, css: str) -> list[list[str]]:
    """The body rows (header row dropped) of the table with this class or id."""
    for t in tables_of(html):
        a = t["attrs"]
        if a.get("id") == css or css in (a.get("class") or "").split():
            return t["rows"][1:]
    raise AssertionError(f"no table {css!r} on the page")


# --- the job workers ----------------------------------------------------------------------------


def node_for(engine: Any, canvas: Any) -> Any:
    """A job node against the Canvas simulator (what `lms-bridge worker` runs)."""
    return workers.node_for(engine, canvas, node="office-test-node")
