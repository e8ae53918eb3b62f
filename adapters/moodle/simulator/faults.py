"""Moodle fault injection, by web-service function (the machinery is adapters.simkit.faults).

Rules match the function name with `re.fullmatch` (`"mod_quiz_save_overrides"`, `"mod_quiz_.*"`);
uploads are `"upload"`. `after=True` executes the call before failing it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from adapters.simkit.faults import Decision, FaultKind, FaultRule
from adapters.simkit.faults import FaultInjector as _FaultInjector

__all__ = ["Decision", "FaultInjector", "FaultKind", "FaultRule"]


def _function(regex: str) -> Callable[[str], bool]:
    pattern = re.compile(regex)
    return lambda function: pattern.fullmatch(function) is not None


class FaultInjector(_FaultInjector):
    def fail_next(self, n: int, function: str = ".*", status: int = 500, *, after: bool = False) -> None:
        """The next `n` calls of a matching function get HTTP `status` (nothing executed unless `after`)."""
        self._add(FaultRule(_function(function), "status", n, status=status, after=after))

    def drop_next(self, function: str = ".*", n: int = 1, *, after: bool = False) -> None:
        """Close the connection without a response; `after=True` executes the call first."""
        self._add(FaultRule(_function(function), "drop", n, after=after))

    def timeout_next(self, function: str = ".*", n: int = 1, *, after: bool = False,
                     seconds: float | None = None) -> None:
        """Hold the response past the client's timeout; `after=True` executes the call first."""
        self._add(FaultRule(_function(function), "timeout", n, after=after, sleep_s=seconds))

    def decide(self, function: str, write: bool) -> Decision:
        return self._decide((function,), write)
