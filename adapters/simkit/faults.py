"""Latency, random faults (seeded) and deterministic fault injection for tests.

The dangerous faults are the ones after a write: a client that times out, or whose connection
is dropped, cannot tell whether its write happened. `after=True` (or, for random faults, a draw
against `write_applied_on_fault`) executes the request before failing it.

Each simulator subclasses FaultInjector with its own way to name requests (Canvas: method and
path; Moodle: web-service function): its `fail_next` / `drop_next` / `timeout_next` build rules
whose `applies` predicate takes that name, and its `decide` hands the name to `_decide`.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

FaultKind = Literal["none", "status", "timeout", "drop"]
_RANDOM_STATUSES = (500, 502, 503)


class FaultSettings(Protocol):
    """The knobs of a simulator's config that the injector reads."""

    seed: int | None
    latency_ms: float
    latency_jitter_ms: float
    fault_rate: float
    timeout_rate: float
    drop_rate: float
    write_applied_on_fault: float
    client_timeout_s: float


@dataclass
class Decision:
    kind: FaultKind = "none"
    status: int = 0
    after: bool = False  # execute the request, then fail
    sleep_s: float = 0.0


@dataclass
class FaultRule:
    applies: Callable[..., bool]  # the simulator's request name -> does this rule match it
    kind: FaultKind
    remaining: int
    status: int = 500
    after: bool = False
    sleep_s: float | None = None

    def matches(self, *name: object) -> bool:
        return self.remaining > 0 and self.applies(*name)


class FaultInjector:
    def __init__(self, config: FaultSettings) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    # -- deterministic injection ---------------------------------------------------------------

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

    def _decide(self, name: tuple[object, ...], write: bool) -> Decision:
        """The first live rule matching `name`, else a seeded random draw (if any rate is set)."""
        timeout_sleep = self.config.client_timeout_s + 0.5
        with self._lock:
            for rule in self._rules:
                if rule.matches(*name):
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
