"""Fixtures for the store tests: every database test runs on SQLite and on PostgreSQL.

PostgreSQL: tests/support/postgres.py (a throwaway database per session, a schema per test,
so runs and tests never see each other's rows; unreachable: the PostgreSQL cases skip with the
reason, or fail under LMS_BRIDGE_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import URL, Engine, event
from sqlalchemy.orm import Session

from lms_bridge.domain.model import Delivery, Exam, ExamPeriod, Sitting, SupportPlan
from lms_bridge.store.database import make_engine, session_factory, upgrade
from tests.support.postgres import postgres_database, schema_url  # noqa: F401 - fixture

@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[Engine]:
    """An empty database (no tables) on each backend, made by lms_bridge's own make_engine."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/lms_bridge.db")
        yield engine
        engine.dispose()
        return
    database: URL = request.getfixturevalue("postgres_database")
    with schema_url(database) as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Engine:
    """The database migrated to head."""
    upgrade(engine)
    return engine


@pytest.fixture
def session(db: Engine) -> Iterator[Session]:
    with session_factory(db)() as session:
        yield session


@pytest.fixture
def period() -> ExamPeriod:
    """A small period with the awkward cases: 33.3%, 12.125, a zero plan, a non-UTC start."""
    start = datetime(2025, 5, 12, 9, 0, tzinfo=UTC)
    return ExamPeriod(
        exams=(
            Exam("MATH1001", "Calculus", Delivery.QUIZ, start, 120, reading_minutes=10, course="MATH1001-2425"),
            Exam("HIST2002", "Modern History", Delivery.DROPBOX, start + timedelta(days=1), 1440, upload_minutes=30),
            Exam(
                "PHYS3003",
                "Optics",
                Delivery.NEW_QUIZ,
                datetime(2025, 5, 14, 13, 30, tzinfo=ZoneInfo("Europe/London")),
                90,
            ),
        ),
        plans={
            "s001": SupportPlan("s001", Fraction("33.3"), Fraction(5)),
            "s002": SupportPlan("s002", Fraction(25), Fraction("12.125")),
            "s003": SupportPlan("s003"),
        },
        sittings=(
            Sitting("MATH1001", "s001"),
            Sitting("MATH1001", "s002"),
            Sitting("HIST2002", "s001"),
            Sitting("PHYS3003", "s003"),
            Sitting("PHYS3003", "s004"),
        ),
    )


@pytest.fixture
def write_log(db: Engine) -> Iterator[list[str]]:
    """Every INSERT, UPDATE and DELETE sent to the database during the test, in order."""
    writes: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            writes.append(statement)

    event.listen(db, "before_cursor_execute", record)
    yield writes
    event.remove(db, "before_cursor_execute", record)
