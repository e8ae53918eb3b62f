"""Canvas's request throttle (app/middleware/request_throttle.rb): a leaky bucket per token.

Each request first reserves `up_front_cost` (so requests in flight crowd each other out), is
refused while the bucket is at or above `hwm`, and when done swaps the reservation for its real
cost. The bucket leaks `outflow` units a second and never holds more than `maximum`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .config import SimulatorConfig

Clock = Callable[[], float]


class LeakyBucket:
    def __init__(self, *, hwm: float, maximum: float, outflow: float, clock: Clock = time.monotonic) -> None:
        self.hwm = hwm
        self.maximum = maximum
        self.outflow = outflow
        self._clock = clock
        self.count = 0.0
        self._touched = clock()

    def increment(self, amount: float) -> float:
        """Leak for the time since the last touch, then add `amount` (the Lua script's job)."""
        now = self._clock()
        leaked = max(0.0, now - self._touched) * self.outflow
        self._touched = now
        self.count = min(self.maximum, max(0.0, self.count - leaked) + amount)
        self.count = max(0.0, self.count)
        return self.count

    def level(self) -> float:
        return self.increment(0.0)

    @property
    def full(self) -> bool:
        return self.count >= self.hwm

    @property
    def remaining(self) -> float:
        return self.hwm - self.count


@dataclass
class Reservation:
    key: str
    allowed: bool
    up_front: float


class Throttle:
    """Buckets by client key (hashed token in Canvas; the token itself here)."""

    def __init__(self, config: SimulatorConfig, clock: Clock = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, LeakyBucket] = {}

    def bucket(self, key: str) -> LeakyBucket:
        with self._lock:
            return self._bucket(key)

    def _bucket(self, key: str) -> LeakyBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            c = self.config
            bucket = self._buckets[key] = LeakyBucket(hwm=c.hwm, maximum=c.maximum, outflow=c.outflow, clock=self._clock)
        return bucket

    def reserve(self, key: str) -> Reservation:
        with self._lock:
            bucket = self._bucket(key)
            up_front = self.config.up_front_cost
            bucket.increment(up_front)
            allowed = not (self.config.throttle_enabled and bucket.full)
            return Reservation(key, allowed, up_front)

    def settle(self, reservation: Reservation, cost: float) -> float:
        """Return the reservation, charge the real cost; the remaining headroom."""
        with self._lock:
            bucket = self._bucket(reservation.key)
            bucket.increment(cost - reservation.up_front)
            return bucket.remaining

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


def request_cost(config: SimulatorConfig, method: str, *, listed: int = 0, batch: int = 0) -> float:
    """Stand-in for CPU + DB seconds: a base per request, more for writes and for each item."""
    if method in ("GET", "HEAD"):
        return round(config.cost_get + listed * config.cost_per_listed_item, 4)
    return round(config.cost_write + batch * config.cost_per_item, 4)
