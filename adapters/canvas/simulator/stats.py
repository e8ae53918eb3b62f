"""Call counts for benchmarks and tests: what a client actually cost the LMS."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.writes = 0
            self.by_route: Counter[str] = Counter()
            self.throttled = 0
            self.unauthorized = 0
            self.faults: Counter[str] = Counter()
            self.in_flight = 0
            self.peak_concurrent = 0

    def begin(self, method: str, template: str) -> None:
        with self._lock:
            self.total += 1
            if method not in ("GET", "HEAD"):
                self.writes += 1
            self.by_route[f"{method} {template}"] += 1
            self.in_flight += 1
            self.peak_concurrent = max(self.peak_concurrent, self.in_flight)

    def end(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def count_throttled(self) -> None:
        with self._lock:
            self.throttled += 1

    def count_unauthorized(self) -> None:
        with self._lock:
            self.unauthorized += 1

    def count_fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self.total, "writes": self.writes, "reads": self.total - self.writes,
                "by_route": dict(sorted(self.by_route.items())), "throttled": self.throttled,
                "unauthorized": self.unauthorized, "faults": dict(self.faults),
                "faults_injected": sum(self.faults.values()), "in_flight": self.in_flight,
                "peak_concurrent": self.peak_concurrent,
            }
