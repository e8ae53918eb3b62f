"""Call counts for benchmarks and tests: what a client actually cost the LMS.

A subclass names the per-request counter in its snapshot (`calls_key`, e.g. "by_route") and adds
its own counters through `_reset_own` and `_snapshot_own` (called under the lock).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class CallStats:
    calls_key = "by_label"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.writes = 0
            self.calls: Counter[str] = Counter()
            self.faults: Counter[str] = Counter()
            self.in_flight = 0
            self.peak_concurrent = 0
            self._reset_own()

    def _reset_own(self) -> None:
        pass

    def _snapshot_own(self) -> dict[str, Any]:
        return {}

    def begin_call(self, label: str, write: bool) -> None:
        with self._lock:
            self.total += 1
            if write:
                self.writes += 1
            self.calls[label] += 1
            self.in_flight += 1
            self.peak_concurrent = max(self.peak_concurrent, self.in_flight)

    def end(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def count_fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self.total, "writes": self.writes, "reads": self.total - self.writes,
                self.calls_key: dict(sorted(self.calls.items())), **self._snapshot_own(),
                "faults": dict(self.faults), "faults_injected": sum(self.faults.values()),
                "in_flight": self.in_flight, "peak_concurrent": self.peak_concurrent,
            }
