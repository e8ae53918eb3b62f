"""Client-side pacing for Canvas's leaky-bucket throttle.

Canvas keeps one bucket per token (``app/middleware/request_throttle.rb``): a request first
reserves an up-front cost (50 units) and is refused while the bucket level, reservations
included, is at or above the high-water mark (600 open source, 700 hosted); when it finishes
the reservation is returned and its real cost (CPU + DB seconds) added. The bucket drains at
10 units/s. Every response reports ``X-Rate-Limit-Remaining`` = hwm − level, measured after
its own reservation was returned but *including* the reservations of this token's other
requests still running on the server.

The :class:`Pacer` keeps that budget busy without overflowing it:

* It keeps an estimate of the *free* budget: the remaining a response reported plus the
  reservations Canvas counted for our other requests then on the server. A request is on
  the server once its outbound trip is over, long before its answer comes back: those in
  flight for at least ``arrival_s`` (never more than our fastest round trip) count. Not
  adding them back would count them twice and leave most of the budget unused; counting
  one too early risks only a throttled response, which is retried.
* A new request starts only while ``free − up_front × (in_flight + 1) > safety``: after
  this request's own reservation the bucket would still have ``safety`` units of headroom
  for the real costs not yet reported. The estimate grows by the drain rate between reports.
* With nothing in flight, no completion will bring news, so it waits until the drained
  estimate says Canvas would accept a single request, then sends it: one request at a time
  is what Instructure says is "unlikely to be throttled".
* On top of that an AIMD window caps in-flight requests: it grows by 1/window per response
  while callers wait on the window (not on the budget) and the budget has room for one
  more, and halves on a throttled response (once per burst: only requests started after the
  last halving can halve it again), never below 1 nor above ``max_concurrency``.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["Pacer", "RetryPolicy", "Ticket"]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry.

    Throttled requests were never executed, so any method may be retried; faults (5xx,
    timeouts, dropped connections) are retried only for idempotent requests. The delay before
    retry ``n`` (1-based) is ``min(cap, base × 2**(n-1))`` scaled by a random factor in
    [1 − jitter, 1 + jitter], so that concurrent clients do not retry in lock-step. The
    bucket drains ~10 units/s, so a first wait of ~1 s, doubling, lets it recover; with the
    defaults a throttled request is tried 7 times over about a minute before giving up.
    """

    max_throttle_retries: int = 6
    max_fault_retries: int = 3
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    jitter: float = 0.25

    def delay(self, retry: int, rng: random.Random) -> float:
        raw = min(self.backoff_cap, self.backoff_base * 2.0 ** (retry - 1))
        return raw * rng.uniform(1 - self.jitter, 1 + self.jitter)


@dataclass(frozen=True)
class Ticket:
    """One admitted request: ``seq`` orders requests by start, ``started`` is the clock then."""

    seq: int
    started: float


class Pacer:
    """Admits requests so that Canvas's bucket stays busy but below its high-water mark.

    Single event loop only (asyncio); :meth:`release` is synchronous so it is safe in
    ``finally`` blocks of cancelled tasks.
    """

    def __init__(
        self,
        *,
        max_concurrency: int = 8,
        initial_concurrency: int = 2,
        safety: float = 100.0,
        arrival_s: float = 0.01,
        up_front_cost: float = 50.0,
        outflow: float = 10.0,
        clock: Clock,
        sleep: Sleep,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if outflow <= 0:
            raise ValueError("outflow must be positive")
        self.max_concurrency = max_concurrency
        self.safety = safety
        self.arrival_s = arrival_s  # the outbound trip: after it a request holds its reservation
        self.up_front_cost = up_front_cost
        self.outflow = outflow
        self._clock = clock
        self._sleep = sleep
        self._window = float(max(1, min(initial_concurrency, max_concurrency)))
        self._active: dict[int, float] = {}  # seq → start time of each request in flight
        self._seq = 0
        self._halve_from_seq = 0  # only requests started at or after this may halve the window
        self._pending = 0  # callers waiting in acquire(): demand beyond what is admitted
        self._fastest: float | None = None  # shortest request seen: an upper bound on the round trip
        self._free: float | None = None  # free budget at the last report; None before any
        self._free_at = 0.0
        self._free_ceiling = 0.0  # the largest free budget seen: draining cannot exceed it
        self._reports = 0  # how many budget reports have arrived
        self._waiters: deque[asyncio.Future[None]] = deque()

    # -- what the client and tests may read ---------------------------------------------------

    @property
    def in_flight(self) -> int:
        return len(self._active)

    @property
    def limit(self) -> int:
        """The current AIMD window: the most requests allowed in flight right now."""
        return max(1, min(self.max_concurrency, int(self._window)))

    def free_budget(self) -> float | None:
        """Estimated budget free of our reservations now, or None before any report."""
        if self._free is None:
            return None
        drained = self._free + self.outflow * max(0.0, self._clock() - self._free_at)
        return min(drained, self._free_ceiling)

    # -- admission ----------------------------------------------------------------------------

    async def acquire(self) -> Ticket:
        drained_for_report: int | None = None  # the report a finished drain wait was based on
        self._pending += 1
        try:
            while True:
                if self.in_flight < self.limit:
                    if self.in_flight == 0:
                        # Trust a finished wait unless news arrived meanwhile (the clock may be
                        # a test's, which does not move).
                        delay = 0.0 if drained_for_report == self._reports else self._drain_delay()
                        if delay <= 0:
                            break
                        report = self._reports
                        await self._sleep(delay)
                        drained_for_report = report
                        continue
                    if self._has_room(self.in_flight + 1):
                        break
                await self._wait_for_release()
        finally:
            self._pending -= 1
        self._seq += 1
        ticket = Ticket(self._seq, self._clock())
        self._active[ticket.seq] = ticket.started
        return ticket

    def release(
        self, ticket: Ticket, *, remaining: float | None = None, throttled: bool = False, success: bool = True
    ) -> None:
        """Return the slot. ``remaining`` is the response's X-Rate-Limit-Remaining, if any;
        ``success`` is False for failures (5xx, no answer), which never widen the window."""
        window_was_full = self.in_flight >= self.limit
        self._active.pop(ticket.seq, None)
        now = self._clock()
        if remaining is not None:
            # Canvas's figure still holds the reservations of our other requests that were on
            # the server when it measured; add those back.
            took = now - ticket.started
            self._fastest = took if self._fastest is None else min(self._fastest, took)
            arrived_by = now - min(self.arrival_s, self._fastest)
            overlapping = sum(1 for started in self._active.values() if started <= arrived_by)
            self._free = remaining + self.up_front_cost * overlapping
            self._free_at = now
            self._free_ceiling = max(self._free_ceiling, self._free)
            self._reports += 1
        if throttled:
            if ticket.seq >= self._halve_from_seq:
                self._window = max(1.0, self._window / 2)
                self._halve_from_seq = self._seq + 1
        elif success and (window_was_full or self._pending) and self._has_room(self.limit + 1):
            # The window, not the budget, is what holds requests back: widen it a little.
            self._window = min(float(self.max_concurrency), self._window + 1 / self._window)
        self._wake_all()

    # -- helpers ------------------------------------------------------------------------------

    def _has_room(self, in_flight: int) -> bool:
        free = self.free_budget()
        return free is None or free - self.up_front_cost * in_flight > self.safety

    def _drain_delay(self) -> float:
        """Seconds until a lone request would be accepted, by the drain estimate."""
        free = self.free_budget()
        if free is None or free > self.up_front_cost:
            return 0.0
        return (self.up_front_cost - free) / self.outflow + 0.1

    async def _wait_for_release(self) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _wake_all(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
