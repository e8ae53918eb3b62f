"""Engines, sessions and migrations: SQLite by default, PostgreSQL for an institution."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///lms_bridge.db"
URL_ENV = "LMS_BRIDGE_DATABASE_URL"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# Bare PostgreSQL URLs (as hosting platforms hand them out) name no driver; SQLAlchemy would
# pick psycopg2, which we do not ship.
_PG_PREFIXES = ("postgresql://", "postgres://")


def database_url(explicit: str | None = None) -> str:
    """The URL to use: `explicit`, else $LMS_BRIDGE_DATABASE_URL, else DEFAULT_URL."""
    return _with_driver(explicit or os.environ.get(URL_ENV) or DEFAULT_URL)


def _with_driver(url: str) -> str:
    for prefix in _PG_PREFIXES:
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    """An engine whose row values never reach logs or exception messages.

    Statement parameters and PostgreSQL's error details can hold support-plan numbers, so
    hiding them is not optional here.
    """
    url = _with_driver(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, hide_parameters=True)
        _make_sqlite_transactional(engine)
        return engine
    engine = create_engine(url, hide_parameters=True, pool_pre_ping=True)
    event.listen(engine, "handle_error", _withhold_error_detail)
    return engine


def _withhold_error_detail(context: ExceptionContext) -> BaseException | None:
    """Drop PostgreSQL's DETAIL line, which quotes row values ("Failing row contains (...)").

    The primary message and the constraint name stay. The driver's exception is edited in place
    because it is also printed as the `__cause__` of SQLAlchemy's.
    """
    original = context.original_exception
    detail = getattr(getattr(original, "diag", None), "message_detail", None)
    if not detail or context.sqlalchemy_exception is None:
        return None
    primary = original.diag.message_primary or type(original).__name__  # type: ignore[attr-defined]
    original.args = (f"{primary}\nDETAIL: withheld by lms_bridge (it can quote row values)",)
    execution = context.execution_context
    return DBAPIError.instance(
        context.statement,
        context.parameters,
        original,
        context.dialect.loaded_dbapi.Error,
        hide_parameters=True,
        connection_invalidated=context.is_disconnect,
        dialect=context.dialect,
        ismulti=bool(execution and execution.executemany),
    )


def _make_sqlite_transactional(engine: Engine) -> None:
    """Foreign keys on, and a real BEGIN for every transaction.

    Python's sqlite3 (before 3.16's default) begins transactions only before DML, so DDL and
    reads would escape the transaction: a failed migration or import could be half-applied.
    SQLAlchemy's documented fix is to disable the driver's BEGIN and emit our own.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")  # off by default; ON DELETE CASCADE needs it
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: objects read in a transaction stay readable after it commits.
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    """Alembic's configuration built in code: no alembic.ini is needed at run time."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine_or_url: Engine | str, revision: str = "heads") -> None:
    """Migrate the database to `revision` (default: the newest of every branch), in one transaction.

    Areas of the store (LTI, jobs) keep their own migration branches off the initial schema.
    """
    _run(engine_or_url, command.upgrade, revision)


def downgrade(engine_or_url: Engine | str, revision: str = "base") -> None:
    """Migrate the database back to `revision` (default: empty), in one transaction."""
    _run(engine_or_url, command.downgrade, revision)


def _run(engine_or_url: Engine | str, step: Any, revision: str) -> None:
    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    try:
        with engine.begin() as connection:
            config = alembic_config()
            # env.py uses this connection (and its transaction) rather than opening its own.
            config.attributes["connection"] = connection
            step(config, revision)
    finally:
        if isinstance(engine_or_url, str):
            engine.dispose()
