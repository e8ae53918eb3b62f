"""Latency that overlaps, injected and random faults, drops and timeouts after a write."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from adapters.canvas.simulator import SimulatorConfig, SimulatorServer

from .conftest import World, build_world


@pytest.mark.parametrize("config", [SimulatorConfig(latency_ms=50)])
def test_latency_overlaps_across_requests_in_flight(server: SimulatorServer) -> None:
    world = build_world(server)
    url = f"{server.api_url}/courses/{world.course_id}"
    headers = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(headers=headers, timeout=5) as http, ThreadPoolExecutor(10) as pool:
        list(pool.map(lambda _: http.get(url), range(10)))  # warm the threads
        server.reset_stats()
        start = time.perf_counter()
        responses = list(pool.map(lambda _: http.get(url), range(10)))
        wall = time.perf_counter() - start
    assert all(r.status_code == 200 for r in responses)
    assert 0.045 <= wall < 0.25, wall  # ~50 ms, not 10 x 50 ms
    assert server.stats.snapshot()["peak_concurrent"] >= 5


def test_fail_next_n_matching_requests(client: httpx.Client, course_url: str, server: SimulatorServer, world: World) -> None:
    server.faults.fail_next(2, "POST", r"/assignments$", 503)
    statuses = [client.post(f"{course_url}/assignments", json={"assignment": {"name": f"E{n}"}}).status_code
                for n in range(3)]
    assert statuses == [503, 503, 200]
    assert [a.name for a in world.sim.course_assignments(world.course_id)] == ["E2"]
    assert client.get(course_url).status_code == 200  # GETs did not match
    assert server.stats.snapshot()["faults"] == {"status_503": 2}


def test_a_500_after_the_write_still_wrote(client: httpx.Client, course_url: str, server: SimulatorServer, world: World) -> None:
    server.faults.fail_next(1, "POST", r"/modules$", 500, after=True)
    response = client.post(f"{course_url}/modules", json={"module": {"name": "Exam"}})
    assert response.status_code == 500 and "error_report_id" in response.json()
    assert [m.name for m in world.sim.course_modules(world.course_id)] == ["Exam"]


def test_dropped_connection_after_the_write(client: httpx.Client, course_url: str, server: SimulatorServer, world: World) -> None:
    server.faults.drop_next("POST", r"/assignments$", after=True)
    with pytest.raises(httpx.TransportError):
        client.post(f"{course_url}/assignments", json={"assignment": {"name": "Drop-box"}})
    assert world.sim.find_assignment(world.course_id, "Drop-box") is not None  # the danger: it exists
    assert client.get(course_url).status_code == 200  # the server is fine afterwards


def test_dropped_connection_before_the_write(client: httpx.Client, course_url: str, server: SimulatorServer, world: World) -> None:
    server.faults.drop_next("POST", r"/assignments$")
    with pytest.raises(httpx.TransportError):
        client.post(f"{course_url}/assignments", json={"assignment": {"name": "Drop-box"}})
    assert world.sim.find_assignment(world.course_id, "Drop-box") is None


def test_client_timeout_on_a_write_that_happened(client: httpx.Client, course_url: str, server: SimulatorServer, world: World) -> None:
    server.faults.timeout_next("POST", r"/pages$", after=True, seconds=2.0)
    with pytest.raises(httpx.ReadTimeout):
        client.post(f"{course_url}/pages", json={"wiki_page": {"title": "Rules"}}, timeout=0.3)
    assert [p.title for p in world.sim.course_pages(world.course_id)] == ["Rules"]
    assert server.stats.snapshot()["faults"] == {"timeout": 1}


def _random_statuses(seed: int) -> list[int]:
    with SimulatorServer(SimulatorConfig(fault_rate=0.4, seed=seed)) as server:
        world = build_world(server)
        with httpx.Client(headers={"Authorization": f"Bearer {server.token}"}) as http:
            return [http.get(f"{server.api_url}/courses/{world.course_id}").status_code for _ in range(30)]


def test_random_faults_are_reproducible_with_a_seed() -> None:
    first, second = _random_statuses(7), _random_statuses(7)
    assert first == second
    assert set(first) > {200} and set(first) <= {200, 500, 502, 503}
    assert _random_statuses(8) != first
