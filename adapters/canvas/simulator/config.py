"""Simulator settings: the knobs a test or benchmark turns."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SimulatorConfig:
    """Everything about the simulated Canvas that is not data.

    Costs are in Canvas's throttle units (CPU seconds + DB seconds on a real server): a GET costs
    `cost_get` plus `cost_per_listed_item` per returned list item, a write `cost_write` plus
    `cost_per_item` per batch element (override student, extension, accommodation).
    """

    token: str = "sim-token"
    extra_tokens: tuple[str, ...] = ()  # more accepted tokens, each with its own bucket
    # Throttle (app/middleware/request_throttle.rb defaults; hosted Canvas uses hwm 700).
    throttle_enabled: bool = True
    hwm: float = 600.0
    maximum: float = 800.0
    outflow: float = 10.0
    up_front_cost: float = 50.0
    throttle_status: int = 429  # 429 hosted since 2025; 403 open-source/legacy
    cost_get: float = 1.0
    cost_write: float = 3.0
    cost_per_item: float = 0.2
    cost_per_listed_item: float = 0.02
    # Latency and random faults.
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    fault_rate: float = 0.0  # share of requests answered 500/502/503 (nothing written)
    timeout_rate: float = 0.0  # share of requests held past client_timeout_s
    drop_rate: float = 0.0  # share of requests whose connection is closed without a response
    write_applied_on_fault: float = 0.5  # chance a timed-out or dropped write was executed first
    client_timeout_s: float = 5.0  # a timeout fault sleeps this long plus a margin
    seed: int | None = 0
    # Files: real Canvas answers step 2 with a 3xx (local storage) or 201 (inst-fs/S3).
    upload_redirect: bool = True
    upload_rejects_auth: bool = True  # S3 refuses a second auth mechanism on the upload POST
    # Naive date-times are read in the API user's zone (Canvas's default account zone).
    user_time_zone: str = "America/Denver"
    default_course_time_zone: str = "Europe/London"
    max_per_page: int = 100
    default_per_page: int = 10
    all_dates_limit: int = 25
    tokens: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        if self.throttle_status not in (403, 429):
            raise ValueError("throttle_status must be 403 or 429")
        self.tokens = (self.token, *self.extra_tokens)
