"""Pacing against a model of Canvas's leaky bucket: busy, but never over the high-water mark."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from adapters.canvas.throttle import Pacer

from ._support import API, FakeClock

UP_FRONT = 50.0


class BucketServer:
    """Canvas's request throttle in miniature (app/middleware/request_throttle.rb).

    Each request reserves 50 units on arrival and is refused (403 "Rate Limit Exceeded") if the
    level, reservations included, reaches the high-water mark. A served request holds its
    reservation while it runs, then returns it and adds its real cost. The bucket drains on the
    test's fake clock. X-Rate-Limit-Remaining is hwm − level after the request's own
    reservation was returned, so it still counts the other requests in flight.
    """

    def __init__(
        self,
        clock: FakeClock,
        *,
        hwm: float = 600,
        level: float = 0,
        cost: float = 1.0,
        outflow: float = 10.0,
        headers: bool = True,
    ) -> None:
        self.clock, self.hwm, self.level, self.cost, self.outflow, self.headers = (
            clock,
            hwm,
            level,
            cost,
            outflow,
            headers,
        )
        self.last = clock()
        self.in_flight = self.max_in_flight = self.throttled = self.served = 0

    def _leak(self) -> None:
        now = self.clock()
        self.level = max(0.0, self.level - self.outflow * (now - self.last))
        self.last = now

    def _remaining(self) -> float:
        return self.hwm - self.level - UP_FRONT * self.in_flight

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self._leak()
        self.in_flight += 1
        if self.level + UP_FRONT * self.in_flight >= self.hwm:
            self.in_flight -= 1
            self.throttled += 1
            return httpx.Response(
                403,
                text="403 Forbidden (Rate Limit Exceeded)\n",
                headers={"X-Rate-Limit-Remaining": str(self._remaining())},
            )
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(0.002)  # the request runs while others arrive
        self.in_flight -= 1
        self._leak()
        self.level += self.cost
        self.served += 1
        headers = {"X-Rate-Limit-Remaining": str(self._remaining()), "X-Request-Cost": str(self.cost)}
        return httpx.Response(200, json={"ok": True}, headers=headers if self.headers else {})


def _run_burst(router, make_client, server: BucketServer, count: int, **options):
    router.get(url__regex=rf"{API}/courses/5/users/\d+").mock(side_effect=server)

    async def main():
        async with make_client(**options) as canvas:
            results = await asyncio.gather(*(canvas.get(f"/courses/5/users/{i}") for i in range(count)))
            return results, canvas

    return asyncio.run(main())


def test_low_remaining_keeps_in_flight_to_the_safe_number(router, make_client, clock):
    # 300 units left, safety 100: after its own 50-unit reservation a new request must leave
    # more than 100, so at most (300 − 100) / 50 − 1 = 3 may run at once.
    server = BucketServer(clock, hwm=600, level=300, cost=0.5)
    results, canvas = _run_burst(router, make_client, server, 40, max_concurrency=8, safety=100)
    assert all(result == {"ok": True} for result in results)
    assert server.throttled == 0
    assert server.max_in_flight == 3  # never more, and the budget is used: not 2
    assert canvas.metrics.max_in_flight == 3


def test_high_remaining_runs_up_to_max_concurrency(router, make_client, clock):
    server = BucketServer(clock, hwm=700, level=0, cost=0.2)
    results, canvas = _run_burst(router, make_client, server, 60, max_concurrency=6)
    assert len(results) == 60 and server.throttled == 0
    assert server.max_in_flight == 6 and canvas.metrics.max_in_flight == 6
    assert canvas.pacer.limit == 6


def test_without_rate_headers_the_window_still_opens(router, make_client, clock):
    server = BucketServer(clock, hwm=10**9, headers=False)
    _, canvas = _run_burst(router, make_client, server, 40, max_concurrency=4)
    assert server.max_in_flight == 4 and canvas.metrics.max_in_flight == 4


def test_never_overflows_while_costs_fill_the_bucket(router, make_client, clock):
    # 60 requests costing 8 each would add 480 units to a bucket 300 below its mark: the client
    # must slow to one at a time and wait for the bucket to drain, without a single refusal.
    server = BucketServer(clock, hwm=600, level=300, cost=8.0)
    results, canvas = _run_burst(router, make_client, server, 60, max_concurrency=8)
    assert len(results) == 60 and server.served == 60
    assert server.throttled == 0 and canvas.metrics.throttled == 0
    assert clock.now > 0  # it did wait for the drain
    assert canvas.metrics.request_cost == pytest.approx(480.0)


def test_recovers_from_a_blind_first_burst(router, make_client, clock):
    # Before the first answer the client knows nothing; here the bucket is nearly full, so the
    # first requests are refused. After that it waits for the drain instead of hammering.
    server = BucketServer(clock, hwm=600, level=560, cost=2.0)
    results, canvas = _run_burst(router, make_client, server, 20, max_concurrency=8)
    assert len(results) == 20 and server.served == 20
    assert 1 <= server.throttled <= 2
    assert canvas.metrics.throttled == server.throttled


# -- the pacer on its own -------------------------------------------------------------------


def _pacer(clock: FakeClock, **options) -> Pacer:
    options.setdefault("max_concurrency", 8)
    return Pacer(clock=clock, sleep=clock.sleep, **options)


def test_window_halves_once_per_throttled_burst(clock):
    async def main():
        pacer = _pacer(clock, initial_concurrency=8)
        tickets = [await pacer.acquire() for _ in range(8)]
        pacer.release(tickets[0], throttled=True)
        assert pacer.limit == 4
        pacer.release(tickets[1], throttled=True)  # same burst: no second halving
        assert pacer.limit == 4
        for ticket in tickets[2:]:
            pacer.release(ticket)
        later = await pacer.acquire()
        pacer.release(later, throttled=True)  # started after the halving: halves again
        assert pacer.limit == 2
        for _ in range(3):
            ticket = await pacer.acquire()
            pacer.release(ticket, throttled=True)
        assert pacer.limit == 1

    asyncio.run(main())


def test_window_grows_by_one_per_window_while_callers_wait(clock):
    async def main():
        pacer = _pacer(clock, initial_concurrency=2, max_concurrency=4)
        limits = []

        async def call():
            ticket = await pacer.acquire()
            await asyncio.sleep(0)
            # Canvas's figure counts the other requests still in flight.
            pacer.release(ticket, remaining=650.0 - UP_FRONT * (pacer.in_flight - 1))
            limits.append(pacer.limit)

        await asyncio.gather(*(call() for _ in range(30)))
        return limits

    limits = asyncio.run(main())
    # +1/window per answer: 2 → 2.5 → 2.9 → 3.24 → 3.55 → 3.83 → 4.09, capped at 4.
    assert limits[:6] == [2, 2, 3, 3, 3, 4]
    assert max(limits) == 4


@pytest.mark.parametrize(("remaining", "grows"), [(190.0, False), (290.0, True)])
def test_window_grows_only_with_room_in_the_bucket(clock, remaining, grows):
    async def main():
        pacer = _pacer(clock, initial_concurrency=2, safety=100)
        a, b = await pacer.acquire(), await pacer.acquire()
        for _ in range(6):
            waiting = asyncio.ensure_future(pacer.acquire())
            await asyncio.sleep(0)
            if waiting.done():  # no longer held back: the window has grown
                break
            # The report still counts b: 190 → 240 free, room for 2 but not 3 (240 − 150 ≤ 100).
            pacer.release(a, remaining=remaining)
            a, b = b, await waiting
        return pacer.limit

    assert (asyncio.run(main()) > 2) is grows


def test_lone_request_waits_for_the_drain_after_a_full_bucket(clock):
    async def main():
        pacer = _pacer(clock)
        ticket = await pacer.acquire()
        pacer.release(ticket, remaining=0.0, throttled=True)
        await pacer.acquire()

    asyncio.run(main())
    # 50 units must drain at 10 units/s before Canvas would accept a reservation.
    assert clock.sleeps == [pytest.approx(5.1)]


def test_waiters_start_when_a_release_makes_room(clock):
    async def main():
        pacer = _pacer(clock, initial_concurrency=8, safety=100)
        first = await pacer.acquire()
        pacer.release(first, remaining=210.0)  # room for 2 in flight: 210 − 2 × 50 > 100, not 3
        a, b = await pacer.acquire(), await pacer.acquire()
        third = asyncio.ensure_future(pacer.acquire())
        await asyncio.sleep(0)
        assert not third.done() and pacer.in_flight == 2
        pacer.release(a, remaining=210.0)
        await asyncio.sleep(0)
        assert third.done() and pacer.in_flight == 2
        pacer.release(b)
        pacer.release(third.result())

    asyncio.run(main())


def test_budget_estimate_drains_but_not_past_what_was_seen(clock):
    pacer = _pacer(clock)
    assert pacer.free_budget() is None
    ticket = asyncio.run(pacer.acquire())
    pacer.release(ticket, remaining=300.0)
    clock.now += 10
    assert pacer.free_budget() == 300.0
    ticket = asyncio.run(pacer.acquire())
    pacer.release(ticket, remaining=100.0)
    clock.now += 5
    assert pacer.free_budget() == 150.0
