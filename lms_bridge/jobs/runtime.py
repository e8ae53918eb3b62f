"""One node, embedded (the default): APScheduler inside the service, its jobs in the app's
SQLite database.

APScheduler 3 runs two fixed interval jobs and nothing else: `leader_tick` (take or renew the
lease, then enqueue what has fallen due) and `drain` (claim and run due work in-process). The
jobs carry one argument, the runtime's registry key, never data; the work itself is rows in
`work_items`, exactly as on many nodes, so the same code decides and runs everything.
APScheduler 3 must not share its job store between processes (its FAQ; reference §2), so
this runtime is for one process; many nodes run `lms-bridge worker` instead.

    runtime = EmbeddedRuntime(engine, ctx)   # ctx: handlers.JobContext
    runtime.start()
    ...
    runtime.shutdown()
"""

from __future__ import annotations

import logging
import threading
import time

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from .handlers import JobContext
from .worker import DueSource, Node

log = logging.getLogger("lms_bridge.jobs.runtime")


class _QuietSkips(logging.Filter):
    """A drain still running when its next interval comes is the normal case (an apply takes
    longer than the poll): APScheduler's warning about the skipped run says nothing useful."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.getMessage().startswith('Execution of job "drain')
                    and "maximum number of running instances" in record.getMessage())


logging.getLogger("apscheduler.scheduler").addFilter(_QuietSkips())

_RUNTIMES: dict[str, EmbeddedRuntime] = {}
_REGISTRY_LOCK = threading.Lock()
TICK_JOB = "lms_bridge.leader_tick"
DRAIN_JOB = "lms_bridge.drain"


def leader_tick(key: str) -> None:
    """APScheduler job: the runtime's leader tick (module-level, so the job store can name it)."""
    runtime = _RUNTIMES.get(key)
    if runtime is not None:
        runtime.tick()


def drain(key: str) -> None:
    """APScheduler job: run the work that is due."""
    runtime = _RUNTIMES.get(key)
    if runtime is not None:
        runtime.drain()


class EmbeddedRuntime:
    def __init__(self, engine: Engine, ctx: JobContext, *, key: str = "default",
                 due_source: DueSource | None = None) -> None:
        self.engine = engine
        self.ctx = ctx
        self.key = key
        self.node = Node(ctx, due_source=due_source)
        settings = ctx.settings
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine)},
            executors={"default": ThreadPoolExecutor(2)},
            # Late runs still run (work is a converge), missed runs fold into one.
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
            timezone="UTC",
        )
        self._tick_every = settings.tick_seconds
        self._drain_every = max(settings.poll_seconds, 0.2)
        self.ticks = 0
        self.drained = 0

    def start(self) -> None:
        with _REGISTRY_LOCK:
            if self.key in _RUNTIMES and _RUNTIMES[self.key] is not self:
                raise RuntimeError(f"an embedded job runtime {self.key!r} is already running in this process")
            _RUNTIMES[self.key] = self
        self.scheduler.add_job(f"{__name__}:leader_tick", "interval", seconds=self._tick_every, args=[self.key],
                               id=TICK_JOB, replace_existing=True, next_run_time=_soon())
        self.scheduler.add_job(f"{__name__}:drain", "interval", seconds=self._drain_every, args=[self.key],
                               id=DRAIN_JOB, replace_existing=True, next_run_time=_soon())
        self.scheduler.start()
        log.info("embedded job runtime started (tick every %.0f s, work every %.1f s)", self._tick_every,
                 self._drain_every)

    def tick(self) -> None:
        try:
            self.node.lead_once()
            self.ticks += 1
        except Exception as exc:  # noqa: BLE001 - the next tick tries again
            log.error("leader tick failed (%s)", type(exc).__name__)

    def drain(self) -> None:
        try:
            self.drained += self.node.worker.drain()
        except Exception as exc:  # noqa: BLE001
            log.error("running due work failed (%s)", type(exc).__name__)

    def shutdown(self, wait: bool = True) -> None:
        try:
            if self.scheduler.running:
                self.scheduler.pause()  # no new submissions while the executors close
                time.sleep(0.05)
                self.scheduler.shutdown(wait=wait)
        finally:
            self.node.lease.release()
            with _REGISTRY_LOCK:
                if _RUNTIMES.get(self.key) is self:
                    del _RUNTIMES[self.key]


def _soon():  # noqa: ANN202
    from datetime import UTC, datetime

    return datetime.now(UTC)


def embedded_runtime_for(ctx: JobContext) -> EmbeddedRuntime | None:
    """The one-node runtime for an app on SQLite (started), or None on PostgreSQL, where
    APScheduler 3 must not run in several processes: there `lms-bridge worker` processes do
    the work (and web processes may join as lease candidates with worker.start_in_background)."""
    if ctx.engine.dialect.name != "sqlite":
        return None
    runtime = EmbeddedRuntime(ctx.engine, ctx)
    runtime.start()
    return runtime
