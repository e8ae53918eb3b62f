"""Fixtures for the job tests: databases (SQLite; PostgreSQL as in tests/store), an exam period
written relative to now, and the Canvas simulator.

PostgreSQL: tests/support/postgres.py (a throwaway database per session; each test gets its own
schema in it, reachable from other processes through the URL). Unreachable: the PostgreSQL
cases skip with the reason (fail under LMS_BRIDGE_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import URL

from lms_bridge.store.database import make_engine, upgrade
from tests.support.postgres import postgres_database, schema_url  # noqa: F401 - fixture

REPO = Path(__file__).resolve().parents[2]

# Plan numbers no timestamp, id or count in these tests can contain: the log grep looks for them.
PLAN_PERCENT = "37.5"
PLAN_BREAKS = "7.25"
PLANS = f"""\
student_id,extra_time_percent,rest_break_minutes_per_hour
s1,{PLAN_PERCENT},{PLAN_BREAKS}
s2,{PLAN_PERCENT},0
s5,{PLAN_PERCENT},{PLAN_BREAKS}
"""


@pytest.fixture
def pg_url(postgres_database: URL) -> Iterator[str]:
    """A URL (string, for subprocesses too) of an empty schema of its own, migrated to head."""
    with schema_url(postgres_database) as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'lms_bridge.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def engine_for():
    """make_engine(url), disposed at the end of the test."""
    made = []

    def make(url: str):
        engine = make_engine(url)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.dispose()


def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M+00:00")


def soon(hours: float) -> datetime:
    """Now + hours, on a whole minute (exam starts are minutes)."""
    t = datetime.now(UTC) + timedelta(hours=hours)
    return t.replace(second=0, microsecond=0)


@dataclass
class Period:
    folder: Path
    timetable: Path
    plans: Path
    candidates: Path
    starts: dict[str, datetime]

    def write_timetable(self, rows: dict[str, tuple]) -> None:
        lines = ["exam_id,title,delivery,start,duration_minutes,course"]
        for exam_id, (title, delivery, start, minutes, course) in rows.items():
            lines.append(f"{exam_id},{title},{delivery},{iso(start)},{minutes},{course}")
            self.starts[exam_id] = start
        self.timetable.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def period(tmp_path: Path) -> Period:
    """E1 (drop-box, canvas:101) in 20 h, E2 (quiz, canvas:101) in 3 days, E3 (drop-box,
    canvas:102) in 20 h 30; students s1-s6 in 101, s4-s9 in 102."""
    p = Period(tmp_path, tmp_path / "timetable.csv", tmp_path / "plans.csv", tmp_path / "candidates.csv", {})
    p.write_timetable({
        "E1": ("Anatomy", "dropbox", soon(20), 90, "canvas:101"),
        "E2": ("Statistics", "quiz", soon(72), 60, "canvas:101"),
        "E3": ("Ethics", "dropbox", soon(20.5), 60, "canvas:102"),
    })
    p.plans.write_text(PLANS, encoding="utf-8")
    rows = [f"{e},s{i}" for e in ("E1", "E2") for i in range(1, 7)] + [f"E3,s{i}" for i in range(4, 10)]
    p.candidates.write_text("exam_id,student_id\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return p


@pytest.fixture
def canvas(period: Period):
    from adapters.canvas.simulator import SimulatorConfig, SimulatorServer, seed_from_files

    with SimulatorServer(SimulatorConfig()) as server:
        seed_from_files(server.sim, period.timetable, period.candidates)
        yield server


def subprocess_env() -> dict[str, str]:
    return os.environ | {"PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
