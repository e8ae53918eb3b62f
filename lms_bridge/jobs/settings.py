"""The job system's settings: defaults, then $LMS_BRIDGE_JOBS_* from the environment, then options."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .schedule import ScheduleSettings

ENV_PREFIX = "LMS_BRIDGE_JOBS_"
WEBHOOK_ENV = "LMS_BRIDGE_ALERT_WEBHOOK"


@dataclass(frozen=True, slots=True)
class JobSettings:
    # when work falls due (see schedule.py)
    apply_before_minutes: int = 24 * 60
    verify_before_minutes: int = 30
    nightly_at: str = "02:30"  # policy-zone wall clock
    horizon_days: int = 60
    roster_check_minutes: float = 60  # 0: nightly only
    close_grace_hours: int = 24
    # the leader
    lease_ttl_seconds: float = 30.0  # renewed every ttl/3; a standby tries every ttl/10
    tick_seconds: float = 15.0
    # the workers
    visibility_seconds: float = 120.0  # a claim not renewed for this long is taken by another worker
    poll_seconds: float = 1.0
    concurrency: int = 2
    max_attempts: int = 5
    backoff_base_seconds: float = 30.0  # then doubled each attempt
    backoff_max_seconds: float = 1800.0
    repair_drift: bool = True  # a drifted verify enqueues an apply and a re-verify
    repair_rounds: int = 2
    recheck_after_seconds: float = 30.0  # the re-verify waits this long after its repair
    # alerts
    webhook_url: str | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> JobSettings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _convert(f.type, raw, f.name)
        if env.get(WEBHOOK_ENV) and "webhook_url" not in values:
            values["webhook_url"] = env[WEBHOOK_ENV]
        values |= {k: v for k, v in overrides.items() if v is not None}
        return cls(**values)

    def with_(self, **changes: Any) -> JobSettings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def schedule(self, zone: ZoneInfo) -> ScheduleSettings:
        hour, minute = (int(p) for p in self.nightly_at.split(":"))
        return ScheduleSettings(
            zone=zone,
            apply_before=timedelta(minutes=self.apply_before_minutes),
            verify_before=timedelta(minutes=self.verify_before_minutes),
            nightly_at=time(hour, minute),
            horizon=timedelta(days=self.horizon_days),
            roster_check=timedelta(minutes=self.roster_check_minutes) if self.roster_check_minutes > 0 else None,
            close_grace=timedelta(hours=self.close_grace_hours),
        )

    def backoff(self, attempt: int) -> float:
        """Seconds before retry number `attempt` (1 = the first retry)."""
        return min(self.backoff_base_seconds * 2 ** max(attempt - 1, 0), self.backoff_max_seconds)


def _convert(type_name: Any, raw: str, name: str) -> Any:
    kind = str(type_name)
    try:
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("float"):
            return float(raw)
        if kind.startswith("bool"):
            return raw.strip().lower() in ("1", "true", "yes", "on")
        return raw
    except ValueError:
        raise ValueError(f"${ENV_PREFIX}{name.upper()} must be a {kind.split()[0]}") from None
