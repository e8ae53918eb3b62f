"""Call counts for benchmarks and tests: what a client actually cost the LMS, per route."""

from __future__ import annotations

from collections import Counter
from typing import Any

from adapters.simkit.stats import CallStats


class Stats(CallStats):
    calls_key = "by_route"

    def _reset_own(self) -> None:
        self.throttled = 0
        self.unauthorized = 0

    def _snapshot_own(self) -> dict[str, Any]:
        return {"throttled": self.throttled, "unauthorized": self.unauthorized}

    @property
    def by_route(self) -> Counter[str]:
        return self.calls

    def begin(self, method: str, template: str) -> None:
        self.begin_call(f"{method} {template}", method not in ("GET", "HEAD"))

    def count_throttled(self) -> None:
        with self._lock:
            self.throttled += 1

    def count_unauthorized(self) -> None:
        with self._lock:
            self.unauthorized += 1
