"""Latency that overlaps, injected and random faults, drops and timeouts after a write, stats."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from adapters.moodle.simulator import SimulatorConfig, SimulatorServer, seed_reference_site

from .conftest import Rest, Site

SAVE = {"data": {"quizid": 1, "overrides": [{"userid": 5, "timelimit": 5400}]}}


def test_latency_overlaps_across_requests_in_flight() -> None:
    with SimulatorServer(SimulatorConfig(latency_ms=50)) as server:
        rest = Rest(server)
        pairs = [("wstoken", server.token), ("wsfunction", "core_webservice_get_site_info"),
                 ("moodlewsrestformat", "json")]
        with ThreadPoolExecutor(10) as pool:
            list(pool.map(lambda _: rest.raw(pairs), range(10)))
            server.reset_stats()
            start = time.perf_counter()
            responses = list(pool.map(lambda _: rest.raw(pairs), range(10)))
            wall = time.perf_counter() - start
        assert all(r.status_code == 200 for r in responses)
        assert 0.045 <= wall < 0.4, wall
        assert server.stats.snapshot()["peak_concurrent"] >= 3
        rest.close()


def test_fail_next_by_function(site: Site) -> None:
    site.server.faults.fail_next(2, "mod_quiz_save_overrides", 503)
    statuses = [site.rest.raw([("wstoken", site.rest.token), ("wsfunction", "mod_quiz_save_overrides"),
                               ("moodlewsrestformat", "json"), ("data[quizid]", "1"),
                               ("data[overrides][0][userid]", str(u)), ("data[overrides][0][timelimit]", "5400")]
                              ).status_code for u in (5, 6, 7)]
    assert statuses == [503, 503, 200]
    assert [o.userid for o in site.sim.quiz_overrides(1)] == [7]  # nothing ran for the failed ones
    assert site.rest("mod_quiz_get_overrides", quizid=1)["overrides"]  # other functions unaffected
    assert site.server.stats.snapshot()["faults"] == {"status_503": 2}


def test_a_500_after_the_write_still_wrote(site: Site) -> None:
    site.server.faults.fail_next(1, "mod_quiz_.*", 500, after=True)
    with pytest.raises(Exception):
        site.rest("mod_quiz_save_overrides", **SAVE)
    assert len(site.sim.quiz_overrides(1)) == 1


def test_dropped_connection_after_and_before_the_write(site: Site) -> None:
    site.server.faults.drop_next("mod_quiz_save_overrides", after=True)
    with pytest.raises(httpx.TransportError):
        site.rest("mod_quiz_save_overrides", **SAVE)
    assert len(site.sim.quiz_overrides(1)) == 1  # the danger: it exists
    site.server.faults.drop_next("mod_quiz_delete_overrides")
    with pytest.raises(httpx.TransportError):
        site.rest("mod_quiz_delete_overrides", data={"quizid": 1, "ids": [site.sim.quiz_overrides(1)[0].id]})
    assert len(site.sim.quiz_overrides(1)) == 1
    assert site.rest("core_webservice_get_site_info")["userid"] == 3  # the server is fine afterwards


def test_client_timeout_on_a_write_that_happened(site: Site) -> None:
    site.server.faults.timeout_next("mod_assign_save_user_extensions", after=True, seconds=2.0)
    with pytest.raises(httpx.ReadTimeout):
        site.rest.http.post(site.server.rest_url, timeout=0.3, data={
            "wstoken": site.rest.token, "wsfunction": "mod_assign_save_user_extensions", "moodlewsrestformat": "json",
            "assignmentid": "1", "userids[0]": "5", "dates[0]": "1796081303"})
    assert site.sim.user_flag(1, 5) is not None
    assert site.server.stats.snapshot()["faults"] == {"timeout": 1}


def _random_statuses(seed: int) -> list[int]:
    with SimulatorServer(SimulatorConfig(fault_rate=0.4, seed=seed)) as server:
        rest = Rest(server)
        pairs = [("wstoken", server.token), ("wsfunction", "core_webservice_get_site_info"),
                 ("moodlewsrestformat", "json")]
        statuses = [rest.raw(pairs).status_code for _ in range(30)]
        rest.close()
        return statuses


def test_random_faults_are_reproducible_with_a_seed() -> None:
    first, second = _random_statuses(7), _random_statuses(7)
    assert first == second
    assert set(first) - {200} and 200 in first
    assert set(first) <= {200, 500, 502, 503}


def test_stats_count_calls_per_function_and_errors(site: Site) -> None:
    site.server.reset_stats()
    site.rest("mod_quiz_get_overrides", quizid=1)
    site.rest("mod_quiz_save_overrides", **SAVE)
    site.rest("mod_quiz_save_overrides", **SAVE)  # a duplicate: invalidparameter
    site.rest("core_webservice_get_site_info", token="bad")
    snap = site.server.stats.snapshot()
    assert snap["total"] == 4 and snap["writes"] == 2 and snap["reads"] == 2
    assert snap["by_function"] == {"core_webservice_get_site_info": 1, "mod_quiz_get_overrides": 1,
                                   "mod_quiz_save_overrides": 2}
    assert snap["errors"] == {"invalidparameter": 1, "invalidtoken": 1}
    assert httpx.get(f"{site.server.base_url}/__sim/stats").json() == snap
    assert httpx.post(f"{site.server.base_url}/__sim/reset_stats").json()["total"] == 0


def test_server_lifecycle_and_urls() -> None:
    server = SimulatorServer(SimulatorConfig())
    with pytest.raises(RuntimeError):
        _ = server.base_url
    with server:
        seed_reference_site(server.sim)
        assert server.rest_url == f"{server.base_url}/webservice/rest/server.php"
        assert server.token == "sim-token"
