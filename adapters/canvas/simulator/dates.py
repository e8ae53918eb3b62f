"""ISO 8601 in, UTC `YYYY-MM-DDTHH:MM:SSZ` out, and Canvas's "fancy midnight"."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse(value: Any, naive_zone: str) -> datetime | None:
    """A UTC instant, or None for null/"" (Canvas: "override to no date").

    Naive values are read in `naive_zone` (Canvas uses the API user's zone, hence the advice to
    always send an offset). Raises ValueError for anything unparseable.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"not a date-time: {value!r}")  # noqa: TRY004 - callers map ValueError to a 400
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(naive_zone))
    return parsed.astimezone(UTC).replace(microsecond=0)


def fancy_midnight(instant: datetime | None, time_zone: str) -> datetime | None:
    """lib/canvas_time.rb: 00:00 local becomes 23:59:59 of the same local day."""
    if instant is None:
        return None
    local = instant.astimezone(zone(time_zone))
    if local.hour != 0 or local.minute != 0:
        return instant
    end = local.replace(hour=23, minute=59, second=59, microsecond=0, tzinfo=None)
    return end.replace(tzinfo=zone(time_zone)).astimezone(UTC)


def fmt(instant: datetime | None) -> str | None:
    if instant is None:
        return None
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def all_day(instant: datetime | None, time_zone: str) -> tuple[bool, str | None]:
    """Assignment.all_day_interpretation: 23:59 local reads as an all-day due date."""
    if instant is None:
        return False, None
    local = instant.astimezone(zone(time_zone))
    return local.strftime("%H:%M") == "23:59", local.date().isoformat()


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
