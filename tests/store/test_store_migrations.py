"""Migrations: head is exactly the models' schema, and the way back to empty works."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

import lms_bridge.store
from lms_bridge.store.database import alembic_config, downgrade, upgrade
from lms_bridge.store.models import Base

# Every table the models declare; the store's areas (LTI, jobs) add theirs to the same metadata.
TABLES = set(Base.metadata.tables)
CORE_TABLES = {"exams", "support_plans", "sittings", "policies", "lms_connections",
               "lti_registrations", "lti_deployments", "audit_log"}


def heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def audit_guard_function_exists(engine: Engine) -> bool:
    with engine.connect() as connection:
        found = connection.scalar(text("SELECT count(*) FROM pg_proc WHERE proname = 'audit_log_refuse_change'"))
    return bool(found)


def test_migrations_live_inside_the_package() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    package = Path(lms_bridge.store.__file__).parent
    assert Path(script.dir) == package / "migrations"
    assert (package / "migrations" / "env.py").is_file()
    # Each area of the store keeps its own branch, all off the one initial schema.
    assert script.get_bases() == ["0001"]
    assert CORE_TABLES <= TABLES


def test_head_matches_the_models_exactly(engine: Engine) -> None:
    upgrade(engine)

    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert differences == []
    assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    assert current_revisions(engine) == heads()


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
    assert current_revisions(engine) == heads()


def test_downgrade_to_base_removes_everything_and_can_be_redone(engine: Engine) -> None:
    upgrade(engine)

    downgrade(engine)

    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    assert current_revisions(engine) == set()
    if engine.dialect.name == "postgresql":
        assert not audit_guard_function_exists(engine)

    upgrade(engine)
    assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    if engine.dialect.name == "postgresql":
        assert audit_guard_function_exists(engine)


def test_upgrade_accepts_a_url(engine: Engine) -> None:
    upgrade(engine.url.render_as_string(hide_password=False))
    assert current_revisions(engine) == heads()
