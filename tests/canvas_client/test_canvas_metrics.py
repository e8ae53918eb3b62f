"""What the metrics count, and reset."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from adapters.canvas.client import CanvasMetrics
from adapters.canvas.errors import CanvasNotFound

from ._support import API


def _ok(cost: str) -> httpx.Response:
    return httpx.Response(
        200, json={"id": 1}, headers={"X-Request-Cost": cost, "X-Rate-Limit-Remaining": "650"}
    )


def test_metrics_count_calls_writes_retries_throttles_and_cost(router, make_client):
    url = f"{API}/courses/5/modules"
    router.get(url).mock(side_effect=[_ok("0.25"), httpx.Response(503), _ok("0.5")])
    router.post(url).mock(
        side_effect=[httpx.Response(429, headers={"X-Rate-Limit-Remaining": "0.0"}), _ok("1.5")]
    )
    router.put(f"{url}/1").mock(return_value=_ok("0.75"))
    router.delete(f"{url}/2").mock(return_value=httpx.Response(404, json={"errors": [{"message": "gone"}]}))

    async def main():
        async with make_client() as canvas:
            await canvas.get("/courses/5/modules")  # 1 call
            await canvas.get("/courses/5/modules")  # 503 then 200: 2 calls, 1 retry
            await canvas.post("/courses/5/modules", json={"module": {"name": "Exam"}})  # 429 then 200
            await canvas.put("/courses/5/modules/1", json={"module": {"published": True}})
            with pytest.raises(CanvasNotFound):
                await canvas.delete("/courses/5/modules/2")  # reached Canvas: a write, though refused
            snapshot = CanvasMetrics(**vars(canvas.metrics))
            canvas.metrics.reset()
            return snapshot, canvas.metrics

    snapshot, after_reset = asyncio.run(main())
    assert snapshot.calls == 7
    assert snapshot.writes == 3  # the throttled POST attempt was never executed
    assert snapshot.retries == 2
    assert snapshot.throttled == 1
    assert snapshot.max_in_flight == 1
    assert snapshot.request_cost == pytest.approx(3.0)
    assert after_reset == CanvasMetrics()


def test_max_in_flight_counts_concurrent_requests(router, make_client):
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.002)
        return httpx.Response(200, json={})

    router.get(url__regex=rf"{API}/courses/\d+").mock(side_effect=slow)

    async def main():
        async with make_client(max_concurrency=3, initial_concurrency=3) as canvas:
            await asyncio.gather(*(canvas.get(f"/courses/{i}") for i in range(9)))
            return canvas.metrics

    metrics = asyncio.run(main())
    assert metrics.max_in_flight == 3 and metrics.calls == 9 and metrics.writes == 0
