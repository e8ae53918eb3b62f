"""Fixtures for the LTI tests: an app on SQLite (and PostgreSQL / Redis where marked) with a fake
Canvas and a fake Moodle registered (see platforms.py)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from flask import Flask
from sqlalchemy import URL, create_engine, make_url
from sqlalchemy.exc import DBAPIError

from lms_bridge.store.database import database_url

from .platforms import FakePlatform, make_app, register

POSTGRES_URL_ENV = "LMS_BRIDGE_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"
REDIS_URL_ENV = "LMS_BRIDGE_TEST_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("LMS_BRIDGE_REQUIRE_SERVICES") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def canvas() -> FakePlatform:
    return FakePlatform.canvas()


@pytest.fixture
def moodle() -> FakePlatform:
    return FakePlatform.moodle()


@pytest.fixture
def app(tmp_path: Path, canvas: FakePlatform, moodle: FakePlatform) -> Iterator[Flask]:
    app = make_app(tmp_path)
    register(app, canvas)
    register(app, moodle)
    yield app
    app.extensions["lms_bridge.lti"].close()
    app.extensions["lms_bridge.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


# --- PostgreSQL (as tests/store/conftest.py: a database per session, a schema per test) ---------


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[URL]:
    server = make_url(database_url(os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL))
    admin = create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    name = f"lmsb_lti_{secrets.token_hex(6)}"
    shown = server.render_as_string(hide_password=True)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except DBAPIError as exc:
        admin.dispose()
        _unavailable(f"PostgreSQL not usable at {shown}: {str(exc.orig or exc).splitlines()[0]}")
    try:
        yield server.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_database: URL) -> Iterator[str]:
    """A URL whose connections use a fresh schema of the session's database."""
    schema = f"t_{secrets.token_hex(6)}"
    owner = create_engine(postgres_database, isolation_level="AUTOCOMMIT")
    with owner.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = postgres_database.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with owner.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        owner.dispose()


# --- Redis ---------------------------------------------------------------------------------------


@pytest.fixture
def redis_config() -> Iterator[dict[str, str]]:
    """App configuration for a reachable Redis, with key prefix of this test's own."""
    import redis

    url = os.environ.get(REDIS_URL_ENV) or DEFAULT_REDIS_URL
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        _unavailable(f"Redis not reachable at {url}: {exc}")
    prefix = f"lms_bridge_test:{secrets.token_hex(6)}:"
    yield {"REDIS_URL": url, "REDIS_KEY_PREFIX": prefix}
    leftover = list(client.scan_iter(prefix + "*"))
    if leftover:
        client.delete(*leftover)
    client.close()
