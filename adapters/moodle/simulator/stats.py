"""Call counts for benchmarks and tests: what a client cost the LMS, per web-service function."""

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
            self.by_function: Counter[str] = Counter()
            self.errors: Counter[str] = Counter()
            self.faults: Counter[str] = Counter()
            self.in_flight = 0
            self.peak_concurrent = 0

    def begin(self, function: str, write: bool) -> None:
        with self._lock:
            self.total += 1
            if write:
                self.writes += 1
            self.by_function[function] += 1
            self.in_flight += 1
            self.peak_concurrent = max(self.peak_concurrent, self.in_flight)

    def end(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def count_error(self, errorcode: str) -> None:
        with self._lock:
            self.errors[errorcode] += 1

    def count_fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self.total, "writes": self.writes, "reads": self.total - self.writes,
                "by_function": dict(sorted(self.by_function.items())), "errors": dict(sorted(self.errors.items())),
                "faults": dict(self.faults), "faults_injected": sum(self.faults.values()),
                "in_flight": self.in_flight, "peak_concurrent": self.peak_concurrent,
            }
