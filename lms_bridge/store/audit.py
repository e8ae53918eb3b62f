"""The audit log: every change the store makes, who made it, when and why.

Append-only: migration 0001 makes the database itself refuse UPDATE and DELETE on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditRow
from .types import require_aware

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    # Kept out of repr: before/after may hold plan numbers, and reprs end up in logs.
    before: Json | None = field(repr=False)
    after: Json | None = field(repr=False)
    reason: str | None


def append_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: Json | None,
    after: Json | None,
    reason: str | None,
    at: datetime,
) -> None:
    """Add one entry to the (append-only) audit log, in the caller's transaction."""
    require_aware(at, "at")
    row = AuditRow(at=at, actor=actor, action=action, entity=entity, entity_id=entity_id, reason=reason)
    row.before, row.after = before, after
    session.add(row)


def audit_entries(
    session: Session,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[AuditRecord]:
    """Matching entries, newest first (by time, then by order of writing)."""
    query = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit)
    if entity is not None:
        query = query.where(AuditRow.entity == entity)
    if entity_id is not None:
        query = query.where(AuditRow.entity_id == entity_id)
    if actor is not None:
        query = query.where(AuditRow.actor == actor)
    if since is not None:
        require_aware(since, "since")
        query = query.where(AuditRow.at >= since)
    return [
        AuditRecord(r.id, r.at, r.actor, r.action, r.entity, r.entity_id, r.before, r.after, r.reason)
        for r in session.scalars(query)
    ]


class StoreAuditSink:
    """The sync engine's audit sink: each entry in a transaction of its own, committed before
    the engine goes on, so an entry written before an LMS call survives a crash during it."""

    def __init__(self, sessions: Any, actor: str, clock: Any) -> None:
        self._sessions = sessions  # a sessionmaker
        self._actor = actor
        self._clock = clock  # () -> aware datetime: the store reads no clock of its own

    def record(self, *, action: str, entity: str, entity_id: str, before: Any, after: Any, reason: str) -> None:
        with self._sessions() as session, session.begin():
            append_audit(
                session, actor=self._actor, action=action, entity=entity, entity_id=entity_id,
                before=before, after=after, reason=reason, at=self._clock(),
            )
