"""Latency, random faults (seeded) and deterministic fault injection, by web-service function.

The dangerous faults come after a write: a client that times out, or whose connection is dropped,
cannot tell whether its write happened. `after=True` (or, for random faults, a draw against
`write_applied_on_fault`) executes the request before failing it. Rules match the function name
with `re.fullmatch` (`"mod_quiz_save_overrides"`, `"mod_quiz_.*"`); uploads are `"upload"`.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass
from typing import Literal

from .config import SimulatorConfig

FaultKind = Literal["none", "status", "timeout", "drop"]
_RANDOM_STATUSES = (500, 502, 503)


@dataclass
class Decision:
    kind: FaultKind = "none"
    status: int = 0
    after: bool = False  # execute the request, then fail
    sleep_s: float = 0.0


@dataclass
class FaultRule:
    function: re.Pattern[str]
    kind: FaultKind
    remaining: int
    status: int = 500
    after: bool = False
    sleep_s: float | None = None

    def matches(self, function: str) -> bool:
        return self.remaining > 0 and self.function.fullmatch(function) is not None


class FaultInjector:
    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    # -- deterministic injection ---------------------------------------------------------------

    def fail_next(self, n: int, function: str = ".*", status: int = 500, *, after: bool = False) -> None:
        """The next `n` calls of a matching function get HTTP `status` (nothing executed unless `after`)."""
        self._add(FaultRule(re.compile(function), "status", n, status=status, after=after))

    def drop_next(self, function: str = ".*", n: int = 1, *, after: bool = False) -> None:
        """Close the connection without a response; `after=True` executes the call first."""
        self._add(FaultRule(re.compile(function), "drop", n, after=after))

    def timeout_next(self, function: str = ".*", n: int = 1, *, after: bool = False,
                     seconds: float | None = None) -> None:
        """Hold the response past the client's timeout; `after=True` executes the call first."""
        self._add(FaultRule(re.compile(function), "timeout", n, after=after, sleep_s=seconds))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def pending(self) -> int:
        with self._lock:
            return sum(r.remaining for r in self._rules)

    def _add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append(rule)

    # -- per request -----------------------------------------------------------------------------

    def decide(self, function: str, write: bool) -> Decision:
        timeout_sleep = self.config.client_timeout_s + 0.5
        with self._lock:
            for rule in self._rules:
                if rule.matches(function):
                    rule.remaining -= 1
                    sleep = rule.sleep_s if rule.sleep_s is not None else timeout_sleep
                    return Decision(rule.kind, rule.status, rule.after, sleep if rule.kind == "timeout" else 0.0)
            self._rules = [r for r in self._rules if r.remaining > 0]
            c = self.config
            if c.fault_rate <= 0 and c.timeout_rate <= 0 and c.drop_rate <= 0:
                return Decision()
            draw = self._rng.random()
            after = write and self._rng.random() < c.write_applied_on_fault
            if draw < c.fault_rate:
                return Decision("status", self._rng.choice(_RANDOM_STATUSES))
            if draw < c.fault_rate + c.timeout_rate:
                return Decision("timeout", 0, after, timeout_sleep)
            if draw < c.fault_rate + c.timeout_rate + c.drop_rate:
                return Decision("drop", 0, after)
            return Decision()

    def latency_s(self) -> float:
        c = self.config
        if c.latency_ms <= 0 and c.latency_jitter_ms <= 0:
            return 0.0
        with self._lock:
            jitter = self._rng.uniform(-c.latency_jitter_ms, c.latency_jitter_ms) if c.latency_jitter_ms else 0.0
        return max(0.0, c.latency_ms + jitter) / 1000.0
