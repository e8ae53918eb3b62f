"""The work queue: rows in `work_items`, enqueued once, claimed with a visibility deadline,
completed exactly once.

- Enqueue inserts with ON CONFLICT (dedupe_key) DO NOTHING: a job due once is enqueued once,
  however many ticks or leaders ask.
- Claim (PostgreSQL) is one statement: UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED
  LIMIT n) RETURNING, so any number of workers take disjoint items without waiting on each
  other. On SQLite the same single UPDATE runs under SQLite's one writer lock.
- A claim lasts until `claim_expires_at` (the database's clock); the worker renews it while it
  works. An item whose claim ran out (its worker died) is claimable again; every claim
  increments `attempts`, which is also the claim's token.
- Completion is guarded by that token: `... WHERE id = :id AND state = 'running' AND
  claimed_by = :me AND attempts = :attempt`. Exactly one completion of an item can match, and
  the handler's own records go in the same transaction, so they are written exactly once.
- A failure retries later with exponential backoff, until `max_attempts`; then the item is
  `failed` and an alert is raised (by the worker).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..store.job_models import WorkItemRow
from . import kinds
from .lease import _now_expr, db_now

_ITEMS = WorkItemRow.__table__
_C = _ITEMS.c
ERROR_LIMIT = 500  # characters of error text kept


@dataclass(frozen=True, slots=True)
class Claim:
    id: int
    kind: str
    args: dict[str, Any]
    attempt: int  # this claim's token: the item's `attempts` after the claim
    max_attempts: int
    dedupe_key: str


def enqueue(
    connection: Connection | Session,
    *,
    kind: str,
    args: Mapping[str, Any],
    dedupe_key: str,
    enqueued_by: str,
    due_at: datetime | None = None,
    max_attempts: int = 5,
    lease_epoch: int | None = None,
    now: datetime | None = None,
) -> int | None:
    """Add one item unless its dedupe_key exists; its id, or None if it was already there.
    `due_at` None: due now. Runs in the caller's transaction."""
    checked = kinds.check_args(kind, args)
    if not dedupe_key or len(dedupe_key) > 255:
        raise ValueError("a dedupe key of 1 to 255 characters is required")
    bind = connection.connection() if isinstance(connection, Session) else connection
    now = now or db_now(bind)
    values = {
        "kind": kind, "args": checked, "dedupe_key": dedupe_key, "due_at": due_at or now, "state": "pending",
        "attempts": 0, "max_attempts": max_attempts, "enqueued_at": now, "enqueued_by": enqueued_by,
        "lease_epoch": lease_epoch,
    }
    dialect = bind.dialect.name
    if dialect == "postgresql":
        stmt = pg_insert(_ITEMS).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    elif dialect == "sqlite":
        stmt = sqlite_insert(_ITEMS).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    else:  # pragma: no cover
        stmt = insert(_ITEMS).values(**values)
    return bind.execute(stmt.returning(_C.id)).scalar()


def enqueue_many(connection: Connection, jobs: Iterable[Any], *, enqueued_by: str, max_attempts: int = 5,
                 lease_epoch: int | None = None) -> list[int]:
    """Enqueue `DueJob`s (schedule.py); the ids of those that were new. A tick asks for
    mostly the same jobs each time: the keys already queued are found in one query per
    thousand, and only the others are inserted."""
    jobs = list(jobs)
    known: set[str] = set()
    keys = [j.dedupe_key for j in jobs]
    for i in range(0, len(keys), 1000):
        known.update(connection.execute(select(_C.dedupe_key).where(_C.dedupe_key.in_(keys[i:i + 1000]))).scalars())
    now = db_now(connection)
    new = []
    for job in jobs:
        if job.dedupe_key in known:
            continue
        item = enqueue(connection, kind=job.kind, args=job.arguments, dedupe_key=job.dedupe_key,
                       due_at=job.due_at, enqueued_by=enqueued_by, max_attempts=max_attempts,
                       lease_epoch=lease_epoch, now=now)
        if item is not None:
            new.append(item)
    return new


def claim(engine: Engine, worker: str, *, limit: int = 1, visibility: float = 120.0) -> list[Claim]:
    """Claim up to `limit` items that are due (or whose claim ran out), oldest due first."""
    if limit < 1:
        return []
    with engine.begin() as connection:
        now = _now_expr(connection)
        claimable = or_(
            and_(_C.state == "pending", _C.due_at <= now),
            and_(_C.state == "running", _C.claim_expires_at < now),
        )
        picked = select(_C.id).where(claimable).order_by(_C.due_at, _C.id).limit(limit)
        if connection.dialect.name == "postgresql":
            picked = picked.with_for_update(skip_locked=True)
        stmt = (
            update(_ITEMS)
            .where(_C.id.in_(picked.scalar_subquery()))
            .values(
                state="running",
                claimed_by=worker,
                attempts=_C.attempts + 1,
                claim_expires_at=now + timedelta(seconds=visibility),
                started_at=now,
            )
            .returning(_C.id, _C.kind, _C.args, _C.attempts, _C.max_attempts, _C.dedupe_key)
        )
        rows = connection.execute(stmt).all()
    return sorted((Claim(r.id, r.kind, dict(r.args), r.attempts, r.max_attempts, r.dedupe_key) for r in rows),
                  key=lambda c: c.id)


def _mine(item: Claim, worker: str):  # noqa: ANN202 - a SQL condition
    return and_(_C.id == item.id, _C.state == "running", _C.claimed_by == worker, _C.attempts == item.attempt)


def extend(engine: Engine, items: Iterable[Claim], worker: str, visibility: float) -> set[int]:
    """Renew the claims still held; the ids renewed (a claim taken over is not)."""
    items = list(items)
    if not items:
        return set()
    renewed: set[int] = set()
    with engine.begin() as connection:
        now = _now_expr(connection)
        for item in items:
            result = connection.execute(
                update(_ITEMS).where(_mine(item, worker)).values(claim_expires_at=now + timedelta(seconds=visibility))
            )
            if result.rowcount == 1:
                renewed.add(item.id)
    return renewed


def complete(session: Session, item: Claim, worker: str, result: str | None) -> bool:
    """Mark the item done in the caller's transaction: True if this claim still held it (the
    caller then writes the handler's records and commits), False if it was lost (roll back)."""
    now = _now_expr(session.connection())
    outcome = session.execute(
        update(_ITEMS).where(_mine(item, worker)).values(
            state="done", finished_at=now, completed_by=worker, result=_clip(result), error=None,
            claim_expires_at=None,
        )
    )
    return outcome.rowcount == 1


def fail(session: Session, item: Claim, worker: str, error: str, retry_in: float, *, final: bool = False) -> str | None:
    """Record a failed attempt in the caller's transaction: "retry" (due again after
    `retry_in` seconds), "failed" (no attempts left, or `final`), or None if the claim was lost."""
    connection = session.connection()
    now = _now_expr(connection)
    final = final or item.attempt >= item.max_attempts
    values: dict[str, Any] = {"error": _clip(error), "claim_expires_at": None, "claimed_by": None}
    if final:
        values |= {"state": "failed", "finished_at": now}
    else:
        values |= {"state": "pending", "due_at": now + timedelta(seconds=retry_in)}
    outcome = session.execute(update(_ITEMS).where(_mine(item, worker)).values(**values))
    if outcome.rowcount != 1:
        return None
    return "failed" if final else "retry"


def defer(session: Session, item: Claim, worker: str, delay: float) -> bool:
    """Put a claimed item back, due again after `delay` seconds, without counting the attempt
    (its course was busy with another job)."""
    now = _now_expr(session.connection())
    outcome = session.execute(update(_ITEMS).where(_mine(item, worker)).values(
        state="pending", due_at=now + timedelta(seconds=delay), attempts=_C.attempts - 1, claimed_by=None,
        claim_expires_at=None,
    ))
    return outcome.rowcount == 1


def coalesce(session: Session, key_prefix: str, *, before: datetime, into: int) -> int:
    """Mark done the pending items whose dedupe key starts with `key_prefix`, already due and
    queued before `before` (a run that began reading then has done their work). How many."""
    now = _now_expr(session.connection())
    outcome = session.execute(update(_ITEMS).where(
        _C.state == "pending", _C.dedupe_key.startswith(key_prefix, autoescape=True), _C.enqueued_at <= before,
        _C.due_at <= now + timedelta(seconds=60),
        _C.id != into,
    ).values(state="done", finished_at=now, result=f"coalesced into item {into}", completed_by=None))
    return outcome.rowcount


def retry_now(engine: Engine, item_id: int) -> bool:
    """Make a failed (or waiting) item due again with fresh attempts (an operator's retry)."""
    with engine.begin() as connection:
        now = db_now(connection)
        result = connection.execute(
            update(_ITEMS).where(_C.id == item_id, _C.state.in_(("failed", "pending")))
            .values(state="pending", due_at=now, attempts=0, claimed_by=None, claim_expires_at=None, error=None)
        )
    return result.rowcount == 1


def counts(engine: Engine) -> dict[str, int]:
    """Items per state."""
    with engine.connect() as connection:
        rows = connection.execute(select(_C.state, func.count()).group_by(_C.state)).all()
    return {state: n for state, n in rows}


def _clip(text: str | None) -> str | None:
    if text is None:
        return None
    return text if len(text) <= ERROR_LIMIT else text[: ERROR_LIMIT - 1] + "…"


__all__ = ["Claim", "claim", "complete", "counts", "enqueue", "enqueue_many", "extend", "fail", "retry_now"]
