"""Replays every recorded Moodle 4.5.6 call (shared/reference/moodle-fixtures, beside the project)
against the simulator seeded with the same site, in the recorded order, and compares the answers:
the same status, content type, JSON (values, key order, types) and, for the XML answers, the same bytes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.moodle.simulator import MoodleSimulator, SimulatorConfig, SimulatorServer, seed_reference_site
from adapters.moodle.simulator.config import CAP_VIEW_ALL_DETAILS
from adapters.moodle.simulator.registry import service_functions

# The recordings are the team's ground truth in ../shared (override with $LMS_BRIDGE_SHARED);
# read in place so the simulator is always checked against the one copy.
FIXTURES = Path(os.environ.get("LMS_BRIDGE_SHARED", Path(__file__).resolve().parents[2].parent / "shared")) / "reference" / "moodle-fixtures"
CALLS = sorted(p.name for p in FIXTURES.glob("[0-9][0-9]_*.json") if not p.name.startswith("00_"))
WWWROOT = "http://127.0.0.1:8100"
DEFAULT_NOW = 1795303754
# The clock when each call was made, where it shows in the answer (section_add's statekey is 34's
# time; the course cache revision read in 59 was set by the last structural change, 38's rename).
CLOCK = {"38": 1795303840}


class Clock:
    def __init__(self) -> None:
        self.now = DEFAULT_NOW

    def __call__(self) -> float:
        return self.now


def _before(number: str, case: str, sim: MoodleSimulator, config: SimulatorConfig, token: str) -> str:
    """Arrange what the recording site had configured for this call; returns the token to send."""
    config.identity_fields = ("idnumber",) if number == "05" else ()
    if number == "06":
        sim.grant(token, CAP_VIEW_ALL_DETAILS)
    else:
        sim.revoke(token, CAP_VIEW_ALL_DETAILS)
    config.debug = case.endswith("_debug")
    if number == "62":  # student1 had logged in and opened the course by then
        sim.users[5].firstaccess = sim.users[5].lastaccess = 1795303861
        enrolment = sim.enrolment(2, 5)
        assert enrolment is not None
        enrolment.lastcourseaccess = 1795303862
    return "not-a-valid-token" if case.startswith("invalid_token") else token


@pytest.fixture(scope="module")
def replayed() -> dict[str, tuple[dict[str, Any], httpx.Response]]:
    clock = Clock()
    config = SimulatorConfig(token="REDACTED", version="4.5", plugin=False, identity_fields=(), wwwroot=WWWROOT,
                             clock=clock)
    out = {}
    with SimulatorServer(config) as server, httpx.Client(timeout=10) as http:
        seed_reference_site(server.sim)
        for name in CALLS:
            fixture = json.loads((FIXTURES / name).read_text())
            number = name[:2]
            clock.now = CLOCK.get(number, DEFAULT_NOW)
            token = _before(number, fixture["case"], server.sim, config, "REDACTED")
            form = [(k, token if k == "wstoken" else v) for k, v in fixture["request"]["form"]]
            url = server.base_url + fixture["request"]["url"]
            if fixture["request"]["method"] == "GET":
                response = http.get(url, params=form)
            else:
                response = http.post(url, data=dict(form) if len(dict(form)) == len(form) else form)
            out[name] = (fixture, response)
    return out


def _shape(value: Any) -> Any:
    """Keys in order and value types, recursively: the structure a client parses."""
    if isinstance(value, dict):
        return [(k, _shape(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__


@pytest.mark.parametrize("name", CALLS)
def test_replay(name: str, replayed: dict[str, tuple[dict[str, Any], httpx.Response]]) -> None:
    fixture, response = replayed[name]
    assert response.status_code == fixture["status"]
    assert response.headers["content-type"] == fixture["content_type"]
    if fixture["body_kind"] == "json":
        body = response.json()
        assert _shape(body) == _shape(fixture["body"])
        assert body == fixture["body"]
        assert response.text == fixture["raw_body"]  # PHP's json_encode, byte for byte
    else:
        assert response.headers["content-disposition"] == fixture["headers"]["Content-Disposition"]
        xml = (FIXTURES / name.replace(".json", ".xml")).read_text()
        assert response.text == xml


def test_every_recorded_call_is_replayed() -> None:
    assert len(CALLS) >= 63
    assert {name[:2] for name in CALLS} == {f"{n:02d}" for n in range(1, 64)}


def test_service_functions_match_the_recorded_service() -> None:
    """00: the functions of the recorded custom service, their component and read/write type."""
    flags = json.loads((FIXTURES / "00_service_function_flags.json").read_text())["functions"]
    offered = {f.name: f for f in service_functions(SimulatorConfig(version="4.5", plugin=False))}
    assert list(offered) == [f["name"] for f in flags]
    for recorded in flags:
        fn = offered[recorded["name"]]
        assert fn.type == recorded["type"]
        assert fn.component == recorded["component"]


Check = Callable[[Any], None]
