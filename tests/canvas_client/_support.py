"""Shared test doubles for the Canvas client tests."""

from __future__ import annotations

import asyncio

BASE = "https://canvas.test"
API = f"{BASE}/api/v1"
TOKEN = "tok-7d1e9c-SECRET"


class FakeClock:
    """Monotonic time that only moves when the client sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)
