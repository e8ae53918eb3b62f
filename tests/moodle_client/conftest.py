"""Fixtures for the Moodle client and adapter tests: a fake Moodle behind httpx.MockTransport
and a sleep that does not wait. Tests drive their coroutines with ``asyncio.run``."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from adapters.moodle.client import MoodleClient

from ._support import BASE, REST, TOKEN, FakeMoodle, FakeSleep


@pytest.fixture
def moodle() -> FakeMoodle:
    return FakeMoodle()


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def router(moodle: FakeMoodle) -> respx.Router:
    """respx routes for the REST endpoint and the upload endpoint, both answered by `moodle`;
    any other URL is a test failure (the client must not call anything else)."""
    r = respx.Router(assert_all_called=False, assert_all_mocked=True)
    r.post(REST).mock(side_effect=moodle)
    r.post(f"{BASE}/webservice/upload.php").mock(side_effect=moodle)
    return r


@pytest.fixture
def make_client(router: respx.Router, sleep: FakeSleep) -> Callable[..., MoodleClient]:
    def make(**options: Any) -> MoodleClient:
        options.setdefault("transport", httpx.MockTransport(router.async_handler))
        options.setdefault("sleep", sleep)
        options.setdefault("rng", random.Random(7))
        return MoodleClient(BASE, TOKEN, **options)

    return make
