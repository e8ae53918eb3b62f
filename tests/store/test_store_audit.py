"""The audit log: append-only in the database itself, and read newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms_bridge.store.models import AuditRow
from lms_bridge.store.repositories import append_audit, audit_entries

T0 = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)


def add(session: Session, minutes: int, *, actor: str = "alice", entity: str = "exam", entity_id: str = "E1") -> None:
    append_audit(
        session,
        actor=actor,
        action=f"{entity}.updated",
        entity=entity,
        entity_id=entity_id,
        before={"n": minutes - 1},
        after={"n": minutes},
        reason="test",
        at=T0 + timedelta(minutes=minutes),
    )


@pytest.fixture
def logged(session: Session) -> Session:
    add(session, 0)
    add(session, 1, actor="bob")
    add(session, 2, entity="plan", entity_id="s001")
    add(session, 3, entity_id="E2")
    session.commit()
    return session


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET actor = 'mallory'",
        "UPDATE audit_log SET after = NULL WHERE id = 1",
        "DELETE FROM audit_log",
    ],
)
def test_the_database_refuses_to_change_the_audit_log(logged: Session, db: Engine, statement: str) -> None:
    with pytest.raises(IntegrityError, match="append-only"):
        with db.begin() as connection:
            connection.execute(text(statement))

    assert [e.actor for e in audit_entries(logged)] == ["alice", "alice", "bob", "alice"]


def test_truncate_is_refused_too_on_postgresql(logged: Session, db: Engine) -> None:
    # SQLite has no TRUNCATE (its DELETE without WHERE is covered above), so here it just deletes.
    statement = "TRUNCATE audit_log" if db.dialect.name == "postgresql" else "DELETE FROM audit_log"
    with pytest.raises(IntegrityError, match="append-only"):
        with db.begin() as connection:
            connection.execute(text(statement))
    assert len(audit_entries(logged)) == 4


def test_orm_edits_are_refused(logged: Session) -> None:
    row = logged.get(AuditRow, 1)
    assert row is not None
    row.reason = "rewritten"
    with pytest.raises(IntegrityError, match="append-only"):
        logged.flush()
    logged.rollback()
    logged.delete(logged.get(AuditRow, 1))
    with pytest.raises(IntegrityError, match="append-only"):
        logged.flush()


def test_entries_come_newest_first_and_filter(logged: Session) -> None:
    everything = audit_entries(logged)
    assert [e.at for e in everything] == [T0 + timedelta(minutes=m) for m in (3, 2, 1, 0)]
    assert everything[0].before == {"n": 2} and everything[0].after == {"n": 3}
    assert all(e.at.tzinfo is UTC for e in everything)

    assert [e.entity_id for e in audit_entries(logged, entity="exam")] == ["E2", "E1", "E1"]
    assert [e.at for e in audit_entries(logged, entity="exam", entity_id="E1")] == [
        T0 + timedelta(minutes=1),
        T0,
    ]
    assert [e.actor for e in audit_entries(logged, actor="bob")] == ["bob"]
    assert len(audit_entries(logged, since=T0 + timedelta(minutes=2))) == 2
    assert len(audit_entries(logged, limit=1)) == 1


def test_same_instant_entries_keep_their_writing_order(session: Session) -> None:
    for entity_id in ("first", "second", "third"):
        append_audit(
            session,
            actor="a",
            action="x.y",
            entity="x",
            entity_id=entity_id,
            before=None,
            after=None,
            reason=None,
            at=T0,
        )
    session.commit()
    entries = audit_entries(session)
    assert [e.entity_id for e in entries] == ["third", "second", "first"]
    assert entries[0].before is None and entries[0].after is None  # SQL NULL, read back as None


def test_records_keep_before_and_after_out_of_their_repr(logged: Session) -> None:
    text_form = repr(audit_entries(logged, entity="plan")[0])
    assert "s001" in text_form and "before" not in text_form and "after" not in text_form


def test_naive_times_are_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="aware"):
        append_audit(
            session,
            actor="a",
            action="x.y",
            entity="x",
            entity_id="1",
            before=None,
            after=None,
            reason=None,
            at=datetime(2025, 4, 1, 12, 0),
        )
    with pytest.raises(ValueError, match="aware"):
        audit_entries(session, since=datetime(2025, 4, 1))
