"""Call counts for benchmarks and tests: what a client cost the LMS, per web-service function."""

from __future__ import annotations

from collections import Counter
from typing import Any

from adapters.simkit.stats import CallStats


class Stats(CallStats):
    calls_key = "by_function"

    def _reset_own(self) -> None:
        self.errors: Counter[str] = Counter()

    def _snapshot_own(self) -> dict[str, Any]:
        return {"errors": dict(sorted(self.errors.items()))}

    @property
    def by_function(self) -> Counter[str]:
        return self.calls

    def begin(self, function: str, write: bool) -> None:
        self.begin_call(function, write)

    def count_error(self, errorcode: str) -> None:
        with self._lock:
            self.errors[errorcode] += 1
