"""A node: a worker that claims and runs work, and a candidate for the scheduler's lease.

Any number of nodes share one database. Every node works; the one holding the lease is also
the leader and, every tick, enqueues the work that has fallen due (`schedule.due_jobs` over the
store's exams), fenced by its lease epoch. When the leader dies, its lease runs out and a
standby (trying every ttl/10) takes over; the dedupe keys make the new leader's first tick add
only what the old one had not.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from . import queue
from .converge import JobError, load_schedule_state, scheduled_exams
from .handlers import HANDLERS, CourseBusy, HandlerSpec, JobContext, JobFailed, Outcome
from .lease import Lease, LeaseLost, db_now
from .queue import Claim
from .schedule import DueJob, due_jobs
from .settings import JobSettings

log = logging.getLogger("lms_bridge.jobs")

DueSource = Callable[[Session, datetime], list[DueJob]]


def default_node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def exam_schedule(settings: JobSettings) -> DueSource:
    """The production schedule: apply, verify and reconcile work for the store's exams."""

    def source(session: Session, now: datetime) -> list[DueJob]:
        try:
            state = load_schedule_state(session)
        except JobError:
            return []  # nothing imported yet
        return due_jobs(scheduled_exams(state), now, settings.schedule(state.policy.calendar.zone))

    return source


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, (JobFailed, JobError)):
        return str(exc)
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class Worker:
    """Claims due work and runs it, `concurrency` items at a time, renewing its claims."""

    def __init__(self, ctx: JobContext, *, handlers: dict[str, HandlerSpec] | None = None) -> None:
        self.ctx = ctx
        self.settings: JobSettings = ctx.settings
        self.handlers = HANDLERS if handlers is None else handlers
        self.name = ctx.node
        self._inflight: dict[int, Claim] = {}
        self._lock = threading.Lock()
        self._heartbeat_stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self.completed = 0

    # -- one item -----------------------------------------------------------------------------

    def run_claim(self, claim: Claim) -> str:
        """Run one claimed item to its end: "done", "retry", "failed" or "lost"."""
        spec = self.handlers.get(claim.kind)
        if spec is None:
            return self._failed(claim, None, f"no handler for {claim.kind} on this node", final=True)
        if claim.attempt > claim.max_attempts:  # its claims kept running out: the worker died each time
            return self._failed(claim, spec, f"stopped {claim.max_attempts} times without finishing", final=True)
        try:
            outcome = spec.run(self.ctx, claim)
        except CourseBusy:
            return self._defer(claim)
        except JobError as exc:
            return self._failed(claim, spec, _error_text(exc), final=True)
        except Exception as exc:  # noqa: BLE001 - any failure is retried, and its type recorded
            return self._failed(claim, spec, _error_text(exc), final=False)
        return self._complete(claim, spec, outcome)

    def _complete(self, claim: Claim, spec: HandlerSpec, outcome: Outcome) -> str:
        with self.ctx.sessions() as session:
            try:
                with session.begin():
                    if not queue.complete(session, claim, self.name, outcome.result):
                        raise _Lost
                    if outcome.finish is not None:
                        outcome.finish(session, self.ctx.clock())
            except _Lost:
                self.ctx.alerts.discard(session)
                log.warning("work item %d (%s): claim lost before completion; another worker has it", claim.id,
                            claim.kind)
                return "lost"
            except Exception as exc:  # noqa: BLE001 - recording failed: retry the item
                self.ctx.alerts.discard(session)
                return self._failed(claim, spec, f"recording the result failed: {_error_text(exc)}", final=False)
            self.ctx.alerts.flush(session)
        self.completed += 1
        log.info("work item %d (%s) done: %s", claim.id, claim.kind, outcome.result)
        return "done"

    def _defer(self, claim: Claim) -> str:
        delay = min(max(self.settings.poll_seconds * 2, 0.2), 10.0)
        with self.ctx.sessions() as session, session.begin():
            deferred = queue.defer(session, claim, self.name, delay)
        log.debug("work item %d (%s): its course is busy; due again in %.1f s", claim.id, claim.kind, delay)
        return "deferred" if deferred else "lost"

    def _failed(self, claim: Claim, spec: HandlerSpec | None, error: str, *, final: bool) -> str:
        retry_in = self.settings.backoff(claim.attempt)
        with self.ctx.sessions() as session:
            try:
                with session.begin():
                    verdict = queue.fail(session, claim, self.name, error, retry_in, final=final)
                    if verdict is None:
                        raise _Lost
                    if spec is not None and spec.on_failure is not None:
                        spec.on_failure(self.ctx, session, claim, error, verdict == "failed", self.ctx.clock())
                    if verdict == "failed" and (spec is None or spec.on_failure is None):
                        self.ctx.alerts.raise_(session, kind="failed", at=self.ctx.clock(), work_item_id=claim.id,
                                               message=f"{claim.kind} item {claim.id} gave up: {error}")
            except _Lost:
                self.ctx.alerts.discard(session)
                return "lost"
            self.ctx.alerts.flush(session)
        if verdict == "failed":
            log.error("work item %d (%s) failed for good after %d attempts", claim.id, claim.kind, claim.attempt)
        else:
            log.warning("work item %d (%s) attempt %d failed; retry in %.0f s", claim.id, claim.kind, claim.attempt,
                        retry_in)
        return verdict

    # -- claims and their renewal -------------------------------------------------------------------

    def claim(self, limit: int) -> list[Claim]:
        claims = queue.claim(self.ctx.engine, self.name, limit=limit, visibility=self.settings.visibility_seconds)
        with self._lock:
            for c in claims:
                self._inflight[c.id] = c
        return claims

    def _done(self, claim: Claim) -> None:
        with self._lock:
            self._inflight.pop(claim.id, None)

    def _renew_loop(self) -> None:
        every = max(self.settings.visibility_seconds / 3, 0.05)
        while not self._heartbeat_stop.wait(every):
            with self._lock:
                held = list(self._inflight.values())
            if not held:
                continue
            try:
                queue.extend(self.ctx.engine, held, self.name, self.settings.visibility_seconds)
                self.ctx.renew_locks()
            except DBAPIError as exc:
                log.warning("claims not renewed: database unreachable (%s)", type(exc.orig or exc).__name__)

    def start_heartbeat(self) -> None:
        if self._heartbeat is None:
            self._heartbeat_stop.clear()
            self._heartbeat = threading.Thread(target=self._renew_loop, name="claims-renewal", daemon=True)
            self._heartbeat.start()

    def stop_heartbeat(self) -> None:
        self._heartbeat_stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
        self._heartbeat = None

    # -- loops --------------------------------------------------------------------------------------

    def _run_and_release(self, claim: Claim) -> str:
        try:
            return self.run_claim(claim)
        finally:
            self._done(claim)

    def drain(self, max_items: int | None = None) -> int:
        """Run due work until none is left (or `max_items` ran); the number run. For the
        one-node runtime and `lms-bridge jobs run-due`."""
        ran = 0
        concurrency = max(self.settings.concurrency, 1)
        self.start_heartbeat()
        try:
            with ThreadPoolExecutor(concurrency, thread_name_prefix="job") as pool:
                while max_items is None or ran < max_items:
                    want = concurrency if max_items is None else min(concurrency, max_items - ran)
                    claims = self.claim(want)
                    if not claims:
                        break
                    for future in [pool.submit(self._run_and_release, c) for c in claims]:
                        future.result()
                    ran += len(claims)
        finally:
            self.stop_heartbeat()
        return ran

    def run(self, stop: threading.Event) -> None:
        """Work until `stop` is set; in-flight items are finished before returning."""
        concurrency = max(self.settings.concurrency, 1)
        running: set[Future[str]] = set()
        self.start_heartbeat()
        try:
            with ThreadPoolExecutor(concurrency, thread_name_prefix="job") as pool:
                while not stop.is_set():
                    running = {f for f in running if not f.done()}
                    free = concurrency - len(running)
                    if free <= 0:
                        wait(running, timeout=self.settings.poll_seconds, return_when=FIRST_COMPLETED)
                        continue
                    claims: list[Claim] = []
                    try:
                        claims = self.claim(free)
                    except (OperationalError, DBAPIError) as exc:
                        log.warning("cannot claim work: database unreachable (%s)", type(exc.orig or exc).__name__)
                    for c in claims:
                        running.add(pool.submit(self._run_and_release, c))
                    if not claims:
                        stop.wait(self.settings.poll_seconds)
        finally:
            self.stop_heartbeat()


class _Lost(Exception):
    pass


class Node:
    """One process's share of the job system: a worker, and (unless `scheduler=False`) a
    candidate for the scheduler lease."""

    def __init__(
        self,
        ctx: JobContext,
        *,
        scheduler: bool = True,
        work: bool = True,
        due_source: DueSource | None = None,
        handlers: dict[str, HandlerSpec] | None = None,
    ) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.scheduler = scheduler
        self.work = work
        self.lease = Lease(ctx.engine, ctx.node, self.settings.lease_ttl_seconds)
        self.worker = Worker(ctx, handlers=handlers)
        self.due_source = due_source or exam_schedule(self.settings)
        self.enqueued = 0

    def tick(self) -> int:
        """As leader: enqueue what has fallen due (fenced by the lease). New items' count."""
        with self.ctx.sessions() as session:
            now = db_now(session.connection())
            jobs = self.due_source(session, now)
        if not jobs:
            return 0
        with self.lease.fenced() as connection:
            new = queue.enqueue_many(connection, jobs, enqueued_by=self.ctx.node, lease_epoch=self.lease.epoch,
                                     max_attempts=self.settings.max_attempts)
        if new:
            log.info("leader %s (epoch %s) enqueued %d due items", self.ctx.node, self.lease.epoch, len(new))
        self.enqueued += len(new)
        return len(new)

    def lead_once(self) -> int | None:
        """Take or renew the lease and, if held, tick: new items, or None if not leader."""
        if self.lease.acquire() is None:
            return None
        try:
            return self.tick()
        except LeaseLost:
            log.warning("lease lost during a tick; nothing enqueued")
            return None

    def _lead(self, stop: threading.Event) -> None:
        next_tick = next_renew = 0.0
        epoch = None
        while not stop.is_set():
            if not self.lease.held or time.monotonic() >= next_renew:  # renew at ttl/3, not every tick
                next_renew = time.monotonic() + self.lease.renew_every
                epoch = self.lease.acquire()
            if epoch is not None and self.lease.held and time.monotonic() >= next_tick:
                try:
                    self.tick()
                except LeaseLost:
                    log.warning("lease lost during a tick; nothing enqueued")
                except Exception as exc:  # noqa: BLE001 - the next tick tries again
                    log.error("scheduler tick failed (%s)", _error_text(exc))
                next_tick = time.monotonic() + self.settings.tick_seconds
            if self.lease.held:
                wait = max(min(next_renew, next_tick) - time.monotonic(), 0.01)
            else:
                wait = self.lease.retry_every
            stop.wait(wait)
        self.lease.release()

    def run(self, stop: threading.Event) -> None:
        """Lead (in a thread) and work (here) until `stop` is set."""
        leader = None
        if self.scheduler:
            leader = threading.Thread(target=self._lead, args=(stop,), name="leader", daemon=True)
            leader.start()
        try:
            if self.work:
                self.worker.run(stop)
            else:
                stop.wait()
        finally:
            stop.set()
            if leader is not None:
                leader.join(timeout=10)


def start_in_background(node: Node) -> Callable[[], None]:
    """Run a node in a daemon thread of this process (a web process taking part as a lease
    candidate, say `Node(ctx, work=False)`); returns the function that stops it."""
    stop = threading.Event()
    thread = threading.Thread(target=node.run, args=(stop,), name=f"job-node-{node.ctx.node}", daemon=True)
    thread.start()

    def stop_node() -> None:
        stop.set()
        thread.join(timeout=30)

    return stop_node
