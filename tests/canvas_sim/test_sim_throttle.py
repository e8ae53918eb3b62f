"""The leaky bucket (unit, injected clock) and throttling over HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from adapters.canvas.simulator import (
    LeakyBucket,
    SimulatorConfig,
    SimulatorServer,
    Throttle,
)

from .conftest import build_world


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_leaks_at_outflow_and_caps_at_maximum() -> None:
    clock = FakeClock()
    bucket = LeakyBucket(hwm=600, maximum=800, outflow=10, clock=clock)
    assert bucket.increment(700) == 700 and bucket.full
    assert bucket.increment(500) == 800  # never above maximum
    clock.now += 25  # 250 units leak away
    assert bucket.level() == pytest.approx(550) and not bucket.full
    clock.now += 1000
    assert bucket.level() == 0.0 and bucket.remaining == 600


def test_up_front_cost_crowds_out_requests_in_flight() -> None:
    clock = FakeClock()
    throttle = Throttle(SimulatorConfig(hwm=600, up_front_cost=50), clock=clock)
    held = [throttle.reserve("token:a") for _ in range(14)]
    # Each reservation holds 50: the 12th brings the bucket to 600 and is refused.
    assert [r.allowed for r in held] == [True] * 11 + [False] * 3
    for reservation in held:
        throttle.settle(reservation, 1.0)
    assert throttle.bucket("token:a").count == pytest.approx(14.0)
    assert throttle.reserve("token:b").allowed  # buckets are per token


def _burst(server: SimulatorServer, n: int) -> list[httpx.Response]:
    world = build_world(server)
    url = f"{server.api_url}/courses/{world.course_id}"
    headers = {"Authorization": f"Bearer {server.token}"}
    limits = httpx.Limits(max_connections=n)
    with httpx.Client(headers=headers, timeout=5, limits=limits) as http, ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: http.get(url), range(n)))


@pytest.mark.parametrize("config", [SimulatorConfig(latency_ms=300)])
def test_a_concurrent_burst_is_throttled_with_429(server: SimulatorServer) -> None:
    responses = _burst(server, 24)
    throttled = [r for r in responses if r.status_code == 429]
    assert 8 <= len(throttled) <= 16  # about 11 fit beside each other's 50-unit reservations
    for response in throttled:
        assert response.headers["X-Rate-Limit-Remaining"] == "0.0"
        assert "X-Request-Cost" not in response.headers
        assert response.text == "429 Forbidden (Rate Limit Exceeded)\n"
        assert response.headers["Content-Type"].startswith("text/plain")
    ok = [r for r in responses if r.status_code == 200]
    assert all(float(r.headers["X-Request-Cost"]) > 0 for r in ok)
    assert server.stats.snapshot()["throttled"] == len(throttled)


@pytest.mark.parametrize("config", [SimulatorConfig(latency_ms=300, throttle_status=403, hwm=300)])
def test_legacy_throttling_is_a_plain_text_403(server: SimulatorServer) -> None:
    throttled = [r for r in _burst(server, 12) if r.status_code == 403]
    assert throttled and all(r.text == "403 Forbidden (Rate Limit Exceeded)\n" for r in throttled)


@pytest.mark.parametrize("config", [SimulatorConfig(latency_ms=5)])
def test_a_sequential_client_is_never_throttled(server: SimulatorServer, client: httpx.Client) -> None:
    world = build_world(server)
    remaining = []
    for _ in range(60):
        response = client.get(f"/courses/{world.course_id}")
        assert response.status_code == 200
        remaining.append(float(response.headers["X-Rate-Limit-Remaining"]))
    assert min(remaining) > 500


def test_cost_grows_with_writes_and_items(client: httpx.Client, course_url: str, server: SimulatorServer) -> None:
    config = server.config
    read = client.get(f"{course_url}/enrollments", params={"per_page": 20})
    assert float(read.headers["X-Request-Cost"]) == pytest.approx(config.cost_get + 20 * config.cost_per_listed_item)
    aid = client.post(f"{course_url}/assignments", json={"assignment": {"name": "E"}}).json()["id"]
    students = [e["user_id"] for e in read.json()][:10]
    write = client.post(f"{course_url}/assignments/{aid}/overrides", json={"assignment_override": {
        "title": "t", "student_ids": students}})
    assert float(write.headers["X-Request-Cost"]) == pytest.approx(config.cost_write + 10 * config.cost_per_item)
