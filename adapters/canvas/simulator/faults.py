"""Canvas fault injection: rules by HTTP method and path regex (the machinery is adapters.simkit.faults)."""

from __future__ import annotations

import re
from collections.abc import Callable

from adapters.simkit.faults import Decision, FaultKind, FaultRule
from adapters.simkit.faults import FaultInjector as _FaultInjector

__all__ = ["Decision", "FaultInjector", "FaultKind", "FaultRule"]


def _route(method: str, path_regex: str) -> Callable[[str, str], bool]:
    method, pattern = method.upper(), re.compile(path_regex)

    def applies(m: str, path: str) -> bool:
        return method in ("*", m) and pattern.search(path) is not None

    return applies


class FaultInjector(_FaultInjector):
    """Rules match a METHOD ("*" for any) and a path regex (`re.search`)."""

    def fail_next(self, n: int, method: str, path_regex: str, status: int = 500, *, after: bool = False) -> None:
        """The next `n` requests matching METHOD and path regex get `status`."""
        self._add(FaultRule(_route(method, path_regex), "status", n, status=status, after=after))

    def drop_next(self, method: str, path_regex: str, n: int = 1, *, after: bool = False) -> None:
        """Close the connection without a response; `after=True` executes the request first."""
        self._add(FaultRule(_route(method, path_regex), "drop", n, after=after))

    def timeout_next(self, method: str, path_regex: str, n: int = 1, *, after: bool = False,
                     seconds: float | None = None) -> None:
        """Hold the response past the client's timeout; `after=True` executes the request first."""
        self._add(FaultRule(_route(method, path_regex), "timeout", n, after=after, sleep_s=seconds))

    def decide(self, method: str, path: str) -> Decision:
        return self._decide((method, path), write=method not in ("GET", "HEAD"))
