"""Fixtures for the Canvas client tests: a respx router as the transport, and a fake clock.

The tests are plain functions that drive their coroutine with ``asyncio.run``; no pytest
plugin is needed. Backoff and drain waits go to :class:`FakeClock`, so nothing really sleeps.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from adapters.canvas.client import CanvasClient

from ._support import BASE, TOKEN, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def router() -> respx.Router:
    return respx.Router(assert_all_called=False)


@pytest.fixture
def make_client(router: respx.Router, clock: FakeClock) -> Callable[..., CanvasClient]:
    def make(**options: Any) -> CanvasClient:
        options.setdefault("transport", httpx.MockTransport(router.async_handler))
        options.setdefault("clock", clock)
        options.setdefault("sleep", clock.sleep)
        options.setdefault("rng", random.Random(7))
        return CanvasClient(BASE, TOKEN, **options)

    return make
