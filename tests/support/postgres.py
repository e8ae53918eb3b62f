"""PostgreSQL for tests: a database per test session, a schema per test.

The server is $LMS_BRIDGE_TEST_POSTGRES_URL (default: root on 127.0.0.1, database `test`). The
session's throwaway database is dropped at its end; each test's schema is reachable from other
processes too, through the URL's `options=-csearch_path=...`. When the server is unreachable the
PostgreSQL cases skip with the reason (fail under LMS_BRIDGE_REQUIRE_SERVICES=1).

Use: `from tests.support.postgres import postgres_database` in a conftest.py registers the
fixture there; `schema_url(postgres_database)` gives a test its own schema.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import URL, Engine, create_engine, make_url
from sqlalchemy.exc import DBAPIError

from lms_bridge.store.database import database_url

from .services import unavailable

POSTGRES_URL_ENV = "LMS_BRIDGE_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"


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
        unavailable(failure)
    try:
        yield server.set(database=name)
    finally:
        with admin.connect() as connection:
            # FORCE (PostgreSQL 13+): a test that leaked a connection must not leak the database.
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def schema_url(database: URL) -> Iterator[str]:
    """A URL (a string, for subprocesses too) whose connections use a fresh, empty schema of
    `database`; the schema is dropped afterwards."""
    schema = f"t_{secrets.token_hex(6)}"
    owner = create_engine(database, isolation_level="AUTOCOMMIT")
    with owner.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield database.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with owner.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        owner.dispose()
