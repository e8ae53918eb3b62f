"""Alembic environment for lms_bridge's store.

`lms_bridge.store.database.upgrade()` passes an open connection in `config.attributes`; the
migrations run inside its transaction. Without one (the `alembic` command line, for
autogenerate), the URL comes from the config or $LMS_BRIDGE_DATABASE_URL.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from lms_bridge.store.database import database_url, make_engine
from lms_bridge.store.models import Base
from lms_bridge.store.types import UTCDateTime

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Autogenerate writes plain SQLAlchemy types, so migrations never import the app's code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(target_metadata=target_metadata, render_item=render_item, compare_type=True, **kwargs)


def _run_on(connection: Connection) -> None:
    # Batch mode lets later ALTERs work on SQLite, which rebuilds tables to alter them.
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    _configure(url=database_url(config.get_main_option("sqlalchemy.url")), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = make_engine(database_url(config.get_main_option("sqlalchemy.url")))
    try:
        with engine.begin() as connection:
            _run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
