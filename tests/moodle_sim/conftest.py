"""Fixtures for the Moodle simulator tests: a live server on a free port and a REST helper.

Every test talks real HTTP to `SimulatorServer`; `server.sim` is the state behind it, used to
arrange data and to check what a call wrote.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from adapters.moodle.simulator import MoodleSimulator, SimulatorConfig, SimulatorServer, seed_reference_site

Pairs = Sequence[tuple[str, Any]]


def flatten(prefix: str, value: Any) -> list[tuple[str, str]]:
    """Python values as Moodle's bracket notation: {"data": {"ids": [1]}} -> data[ids][0]=1."""
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in flatten(f"{prefix}[{k}]" if prefix else str(k), v)]
    if isinstance(value, (list, tuple)):
        return [pair for i, v in enumerate(value) for pair in flatten(f"{prefix}[{i}]", v)]
    if isinstance(value, bool):
        return [(prefix, "1" if value else "0")]
    return [(prefix, str(value))]


class Rest:
    """A thin client: `rest("mod_quiz_get_overrides", quizid=1)` -> parsed JSON (errors included)."""

    def __init__(self, server: SimulatorServer, token: str | None = None) -> None:
        self.server = server
        self.token = token or server.token
        self.http = httpx.Client(timeout=10)

    def raw(self, pairs: Pairs, *, method: str = "POST") -> httpx.Response:
        body = urlencode([(k, str(v)) for k, v in pairs])
        if method == "GET":
            return self.http.get(f"{self.server.rest_url}?{body}")
        return self.http.post(self.server.rest_url, content=body,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})

    def __call__(self, function: str, *, token: str | None = None, **params: Any) -> Any:
        pairs = [("wstoken", token or self.token), ("wsfunction", function), ("moodlewsrestformat", "json")]
        pairs += flatten("", params)
        response = self.raw(pairs)
        assert response.status_code == 200, response.text
        return response.json()

    def close(self) -> None:
        self.http.close()


def is_error(body: Any, errorcode: str | None = None) -> bool:
    return isinstance(body, dict) and "exception" in body and (errorcode is None or body["errorcode"] == errorcode)


@dataclass
class Site:
    """The recorded reference site (course 2, assign 1/cm 2, quiz 1/cm 3, group 1 = users 5 and 6)."""

    server: SimulatorServer
    rest: Rest
    ids: dict[str, Any]

    @property
    def sim(self) -> MoodleSimulator:
        return self.server.sim


NOW = 1795303754  # the reference site's "now": its quiz and assignment are open, not yet due


@pytest.fixture
def config() -> SimulatorConfig:
    return SimulatorConfig(clock=lambda: NOW)


@pytest.fixture
def server(config: SimulatorConfig) -> Iterator[SimulatorServer]:
    with SimulatorServer(config) as running:
        yield running


@pytest.fixture
def rest(server: SimulatorServer) -> Iterator[Rest]:
    client = Rest(server)
    yield client
    client.close()


@pytest.fixture
def site(server: SimulatorServer, rest: Rest) -> Site:
    return Site(server, rest, seed_reference_site(server.sim))
