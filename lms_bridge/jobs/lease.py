"""The leader lease: a row that one node holds until a time set by the database's clock.

    UPDATE job_leases SET holder = me, expires_at = now() + ttl, epoch = <+1 if it changes hands>
    WHERE name = 'scheduler' AND (holder = me OR holder IS NULL OR expires_at < now())

Every node runs the same statement; only one can match while the lease is live. Times come
from the database (`now()` on PostgreSQL), never the node, so a node whose clock is wrong
cannot think a live lease has expired. The holder renews at ttl/3; a node that cannot renew
stops acting as leader once ttl has passed on its own monotonic clock since the renewal began
(never later than the database expires the lease). `epoch` is the fencing token: it goes up
whenever the lease changes hands, and `fenced` refuses to write unless the caller's epoch
still holds the lease, so a leader that was paused past its lease cannot enqueue.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, case, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError

from ..store.job_models import LeaseRow

log = logging.getLogger("lms_bridge.jobs.lease")
SCHEDULER = "scheduler"
_LEASES = LeaseRow.__table__


class LeaseLost(RuntimeError):
    """The caller no longer holds the lease (another node took it over); nothing was written."""


def db_now(connection: Connection) -> datetime:
    """The database's clock: PostgreSQL's transaction time; on SQLite (one node, embedded),
    the process's clock is the database's."""
    if connection.dialect.name == "postgresql":
        value = connection.execute(select(func.now())).scalar_one()
        return value.astimezone(UTC)
    return datetime.now(UTC)


def _now_expr(connection: Connection):  # noqa: ANN202 - a SQL expression or a bound value
    return func.now() if connection.dialect.name == "postgresql" else datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    name: str
    holder: str | None
    epoch: int
    expires_at: datetime | None
    now: datetime  # the database's clock when read

    @property
    def live(self) -> bool:
        return self.holder is not None and self.expires_at is not None and self.expires_at > self.now


def ensure_lease(connection: Connection, name: str) -> None:
    """Create the lease's row if it does not exist (idempotent, race-free)."""
    values = {"name": name, "holder": None, "epoch": 0, "expires_at": None, "acquired_at": None}
    dialect = connection.dialect.name
    if dialect == "postgresql":
        stmt = pg_insert(_LEASES).values(**values).on_conflict_do_nothing(index_elements=["name"])
    elif dialect == "sqlite":
        stmt = sqlite_insert(_LEASES).values(**values).on_conflict_do_nothing(index_elements=["name"])
    else:  # pragma: no cover - the store supports these two
        stmt = insert(_LEASES).values(**values)
    connection.execute(stmt)


def lease_info(engine: Engine, name: str = SCHEDULER) -> LeaseInfo:
    with engine.connect() as connection:
        now = db_now(connection)
        row = connection.execute(select(_LEASES).where(_LEASES.c.name == name)).first()
    if row is None:
        return LeaseInfo(name, None, 0, None, now)
    return LeaseInfo(name, row.holder, row.epoch, row.expires_at, now)


class Lease:
    """One node's handle on a named lease."""

    def __init__(self, engine: Engine, holder: str, ttl: float, name: str = SCHEDULER,
                 monotonic=time.monotonic) -> None:  # noqa: ANN001
        if ttl <= 0:
            raise ValueError("the lease ttl must be positive")
        self.engine = engine
        self.name = name
        self.holder = holder
        self.ttl = float(ttl)
        self._monotonic = monotonic
        self.epoch: int | None = None  # the epoch held, while held
        self._valid_until = 0.0
        self._ensured = False

    @property
    def held(self) -> bool:
        """Held, as far as this node can be sure without asking the database."""
        return self.epoch is not None and self._monotonic() < self._valid_until

    @property
    def renew_every(self) -> float:
        return self.ttl / 3

    @property
    def retry_every(self) -> float:
        """How often a node that does not hold the lease tries to take it."""
        return max(self.ttl / 10, 0.05)

    def acquire(self) -> int | None:
        """Take or renew the lease; the epoch held, or None if another node holds it (or the
        database cannot be reached)."""
        started = self._monotonic()
        try:
            with self.engine.begin() as connection:
                if not self._ensured:
                    ensure_lease(connection, self.name)
                now = _now_expr(connection)
                c = _LEASES.c
                stmt = (
                    update(_LEASES)
                    .where(c.name == self.name, or_(c.holder == self.holder, c.holder.is_(None), c.expires_at < now))
                    .values(
                        epoch=case((c.holder == self.holder, c.epoch), else_=c.epoch + 1),
                        acquired_at=case((c.holder == self.holder, c.acquired_at), else_=now),
                        holder=self.holder,
                        expires_at=now + timedelta(seconds=self.ttl),
                    )
                    .returning(c.epoch)
                )
                epoch = connection.execute(stmt).scalar()
            self._ensured = True
        except DBAPIError as exc:
            log.warning("lease %s: cannot reach the database (%s)", self.name, type(exc.orig or exc).__name__)
            self._lose_if_expired()
            return self.epoch if self.held else None
        if epoch is None:
            if self.epoch is not None:
                log.warning("lease %s: lost to another node", self.name)
            self.epoch = None
            return None
        if self.epoch != epoch:
            log.info("lease %s: %s is leader (epoch %d)", self.name, self.holder, epoch)
        self.epoch = epoch
        # The database expires it at (its now, which is after `started`) + ttl: never earlier.
        self._valid_until = started + self.ttl
        return epoch

    def _lose_if_expired(self) -> None:
        if self.epoch is not None and not self.held:
            log.warning("lease %s: not renewed within its ttl; no longer leader", self.name)
            self.epoch = None

    def release(self) -> None:
        """Give the lease up at once (a clean shutdown), so another node need not wait out the ttl."""
        if self.epoch is None:
            return
        try:
            with self.engine.begin() as connection:
                c = _LEASES.c
                connection.execute(
                    update(_LEASES)
                    .where(c.name == self.name, c.holder == self.holder, c.epoch == self.epoch)
                    .values(holder=None, expires_at=None)
                )
        except DBAPIError:
            pass
        self.epoch = None

    @contextmanager
    def fenced(self) -> Iterator[Connection]:
        """A transaction that commits only while this node's epoch holds the lease.

        The lease row is locked first (a no-op UPDATE), so a takeover waits until this
        transaction ends; if the lease has moved on, LeaseLost is raised and nothing is written."""
        epoch = self.epoch
        if epoch is None:
            raise LeaseLost(f"{self.holder} does not hold the {self.name} lease")
        with self.engine.begin() as connection:
            now = _now_expr(connection)
            c = _LEASES.c
            result = connection.execute(
                update(_LEASES)
                .where(c.name == self.name, c.holder == self.holder, c.epoch == epoch, c.expires_at > now)
                .values(epoch=c.epoch)
            )
            if result.rowcount != 1:
                self.epoch = None
                raise LeaseLost(f"{self.holder} no longer holds the {self.name} lease (epoch {epoch})")
            yield connection


# -- course locks ------------------------------------------------------------------------------------
#
# Two jobs converging the same course at once would both read "missing" and both create: each
# job that reads or writes a course holds its lock, a row of the same table named
# "course:<course>", taken like the leader lease (the database's clock, a ttl renewed while the
# job runs), so a worker that dies mid-job frees its courses when the ttl runs out.


def lock_names(courses) -> list[str]:  # noqa: ANN001 - CourseRefs or strings
    return sorted({f"course:{c}" for c in courses})


def try_lock(engine: Engine, names: list[str], holder: str, ttl: float) -> bool:
    """Take every lock in `names` for `holder`, or none of them."""
    if not names:
        return True
    with engine.begin() as connection:
        for name in names:
            ensure_lease(connection, name)
    try:
        with engine.begin() as connection:
            now = _now_expr(connection)
            c = _LEASES.c
            taken = connection.execute(
                update(_LEASES)
                .where(c.name.in_(names), or_(c.holder == holder, c.holder.is_(None), c.expires_at < now))
                .values(holder=holder, expires_at=now + timedelta(seconds=ttl),
                        epoch=case((c.holder == holder, c.epoch), else_=c.epoch + 1), acquired_at=now)
                .returning(c.name)
            ).scalars().all()
            if len(taken) != len(names):
                raise _Busy  # roll back the ones taken
    except _Busy:
        return False
    return True


class _Busy(Exception):
    pass


def wait_for_locks(engine: Engine, names: list[str], holder: str, ttl: float, wait: float) -> bool:
    """`try_lock`, retried for up to `wait` seconds; False if another holder kept a lock."""
    deadline = time.monotonic() + wait
    while not try_lock(engine, names, holder, ttl):
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(0.5, max(wait / 20, 0.05)))
    return True


def renew_locks(engine: Engine, names: list[str], holder: str, ttl: float) -> int:
    if not names:
        return 0
    with engine.begin() as connection:
        now = _now_expr(connection)
        c = _LEASES.c
        return connection.execute(
            update(_LEASES).where(c.name.in_(names), c.holder == holder)
            .values(expires_at=now + timedelta(seconds=ttl))
        ).rowcount


def unlock(engine: Engine, names: list[str], holder: str) -> None:
    if not names:
        return
    with engine.begin() as connection:
        c = _LEASES.c
        connection.execute(update(_LEASES).where(c.name.in_(names), c.holder == holder)
                           .values(holder=None, expires_at=None))
