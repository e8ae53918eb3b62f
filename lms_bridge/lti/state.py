"""Launch state shared by every web process: verified launches and the nonces they used.

(Logins in flight need no storage: their OIDC state is a signed token, lms_bridge.lti.login_state.)

Two back ends with one interface (`StateStore`):

* `SqlStateStore` (default): lti_models.LtiLaunchRow in the app's database; the launch row
  holds its nonce under a unique constraint, so a second use fails on every node sharing it.
* `RedisStateStore` (when REDIS_URL is set): keys with expiries; a nonce is claimed with
  ``SET NX EX``.

Expired rows are purged now and then by the SQL store itself (Redis expires its keys).
"""

from __future__ import annotations

import json
import os
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, delete, insert, select

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]
from sqlalchemy.exc import IntegrityError

from ..store.lti_models import LtiLaunchRow
from ..web.launch_context import LaunchContext, Role


_CONTEXT_FIELDS = tuple(LaunchContext.__dataclass_fields__)


def context_to_json(context: LaunchContext) -> dict[str, Any]:
    data = {name: getattr(context, name) for name in _CONTEXT_FIELDS}
    data["roles"] = sorted(r.value for r in context.roles)
    data["permissions"] = sorted(context.permissions)
    return data


def context_from_json(data: dict[str, Any]) -> LaunchContext:
    values = {k: v for k, v in data.items() if k in _CONTEXT_FIELDS}
    values["roles"] = frozenset(Role(r) for r in data.get("roles", ()))
    values["permissions"] = frozenset(data.get("permissions", ()))
    return LaunchContext(**values)


class StateStore(Protocol):
    def finish_launch(self, *, nonce: str, nonce_ttl: int, context: LaunchContext, ttl: int) -> bool:
        """Use the nonce and store the launch; False (nothing stored) if the nonce was used."""
        ...

    def put_launch(self, context: LaunchContext, ttl: int) -> None: ...

    def get_launch(self, launch_id: str) -> LaunchContext | None: ...


Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SqlStateStore:
    """The launch store in the app's SQL database (SQLite or PostgreSQL).

    A launch is one INSERT: the row holds the id_token's nonce under a unique constraint, so the
    same token cannot launch twice on any node sharing the database. SQLAlchemy Core on the
    engine, not the ORM: its unit of work would cost more than the statement.
    """

    # Purge expired rows on about one launch in PURGE_EVERY.
    PURGE_EVERY = 500

    def __init__(self, engine: Engine, clock: Clock = _utcnow) -> None:
        self._engine = engine
        self._clock = clock
        self._launch_cache: dict[str, tuple[datetime, LaunchContext]] = {}
        self._lock = threading.Lock()
        self._launches = LtiLaunchRow.__table__
        self._writers = _SqliteWriterLock.for_engine(engine)

    def finish_launch(self, *, nonce: str, nonce_ttl: int, context: LaunchContext, ttl: int) -> bool:
        """Store the launch under its nonce; False (nothing stored) if the nonce was used before.

        The row lives at least as long as the nonce must be remembered.
        """
        now = self._clock()
        row = {
            "launch_id": context.launch_id,
            "nonce": nonce,
            "context": context_to_json(context),
            "expires_at": now + timedelta(seconds=max(ttl, nonce_ttl)),
        }
        try:
            with self._writers, self._engine.begin() as connection:
                connection.execute(insert(self._launches), row)
                if random.randrange(self.PURGE_EVERY) == 0:
                    self._purge(connection, now)
        except IntegrityError:
            return False
        return True

    def put_launch(self, context: LaunchContext, ttl: int) -> None:
        """Store a launch that did not come through an id_token (tests, tools)."""
        if not self.finish_launch(nonce=f"direct:{context.launch_id}", nonce_ttl=0, context=context, ttl=ttl):
            raise ValueError(f"launch {context.launch_id} exists")

    def get_launch(self, launch_id: str) -> LaunchContext | None:
        now = self._clock()
        cached = self._launch_cache.get(launch_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        table = self._launches
        with self._engine.connect() as connection:
            row = connection.execute(
                select(table.c.context, table.c.expires_at).where(table.c.launch_id == launch_id)
            ).first()
        if row is None or row.expires_at <= now:
            return None
        context = context_from_json(row.context)
        with self._lock:
            if len(self._launch_cache) > 10_000:
                self._launch_cache.clear()
            self._launch_cache[launch_id] = (row.expires_at, context)
        return context

    def purge(self, now: datetime | None = None) -> None:
        with self._engine.begin() as connection:
            self._purge(connection, now or self._clock())

    def _purge(self, connection: Connection, now: datetime) -> None:
        connection.execute(delete(self._launches).where(self._launches.c.expires_at <= now))


class _SqliteWriterLock:
    """Queue this store's writers to one SQLite file behind an OS file lock.

    SQLite lets one writer at a time and makes the others poll, sleeping 1, 2, 5, 10 ms... between
    tries: with several gunicorn workers that sleeping, not the work, made the slowest launches.
    A blocking `flock` wakes the next writer as soon as the lock is free. (A no-op elsewhere.)
    """

    def __init__(self, path: str | None) -> None:
        self._path = path
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None

    @classmethod
    def for_engine(cls, engine: Engine) -> _SqliteWriterLock:
        database = engine.url.database
        usable = engine.dialect.name == "sqlite" and database not in (None, "", ":memory:") and fcntl is not None
        return cls(f"{database}.lti-lock" if usable else None)

    def __enter__(self) -> None:
        if self._path is None:
            return
        self._thread_lock.acquire()
        try:
            if self._fd is None or self._pid != os.getpid():  # a forked worker opens its own
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise

    def __exit__(self, *_: object) -> None:
        if self._path is None:
            return
        try:
            assert self._fd is not None
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


class RedisStateStore:
    """The state store in Redis (several web nodes); every key expires on its own."""

    def __init__(self, client: Any, prefix: str = "lms_bridge:lti:") -> None:
        self._redis = client
        self._prefix = prefix

    def _key(self, kind: str, value: str) -> str:
        return f"{self._prefix}{kind}:{value}"

    def use_nonce(self, nonce: str, ttl: int) -> bool:
        return bool(self._redis.set(self._key("nonce", nonce), b"1", nx=True, ex=ttl))

    def finish_launch(self, *, nonce: str, nonce_ttl: int, context: LaunchContext, ttl: int) -> bool:
        if not self.use_nonce(nonce, nonce_ttl):
            return False
        self._redis.set(self._key("launch", context.launch_id), json.dumps(context_to_json(context)), ex=ttl)
        return True

    def put_launch(self, context: LaunchContext, ttl: int) -> None:
        self._redis.set(self._key("launch", context.launch_id), json.dumps(context_to_json(context)), ex=ttl)

    def get_launch(self, launch_id: str) -> LaunchContext | None:
        raw = self._redis.get(self._key("launch", launch_id))
        return None if raw is None else context_from_json(json.loads(raw))
