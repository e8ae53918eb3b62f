"""Fixtures for the store tests: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from $LMS_BRIDGE_TEST_POSTGRES_URL (default: root on 127.0.0.1, database
`test`). Each test session creates its own throwaway database and drops it at the end; each
test gets its own schema inside it, so runs and tests never see each other's rows. When the
server is unreachable the PostgreSQL cases are skipped with the reason, unless
$LMS_BRIDGE_REQUIRE_SERVICES=1 (CI), where they fail instead.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from lms_bridge.domain.model import Delivery, Exam, ExamPeriod, Sitting, SupportPlan
from lms_bridge.store.database import database_url, make_engine, session_factory, upgrade

POSTGRES_URL_ENV = "LMS_BRIDGE_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"
REQUIRE_SERVICES_ENV = "LMS_BRIDGE_REQUIRE_SERVICES"


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get(REQUIRE_SERVICES_ENV) == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _first_line(exc: DBAPIError) -> str:
    lines = str(exc.orig or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _create_database(admin: Engine, name: str, shown: str) -> str | None:
    """Create the database; on failure, the reason (returned, so pytest shows no traceback)."""
    try:
        connection = admin.connect()
    except DBAPIError as exc:
        return f"PostgreSQL not reachable at {shown}: {_first_line(exc)}"
    try:
        with connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except DBAPIError as exc:
        return f"PostgreSQL at {shown} cannot create a test database: {_first_line(exc)}"
    return None


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[URL]:
    """The URL of a database created for this test session (dropped at its end)."""
    server = make_url(database_url(os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL))
    admin = create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    name = f"lmsb_{secrets.token_hex(6)}"
    failure = _create_database(admin, name, server.render_as_string(hide_password=True))
    if failure is not None:
        admin.dispose()
        _unavailable(failure)
    try:
        yield server.set(database=name)
    finally:
        with admin.connect() as connection:
            # FORCE (PostgreSQL 13+): a test that leaked a connection must not leak the database.
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[Engine]:
    """An empty database (no tables) on each backend, made by lms_bridge's own make_engine."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/lms_bridge.db")
        yield engine
        engine.dispose()
        return
    database: URL = request.getfixturevalue("postgres_database")
    schema = f"t_{secrets.token_hex(6)}"
    owner = create_engine(database, isolation_level="AUTOCOMMIT")
    with owner.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = database.update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with owner.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        owner.dispose()


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
