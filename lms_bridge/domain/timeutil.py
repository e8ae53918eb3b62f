"""Exact time: UTC instants inside, wall-clock rules in the policy zone.

Python's aware `datetime + timedelta` is wall-clock arithmetic and comparisons within one
tzinfo ignore `fold`, so all arithmetic here happens on UTC instants and local times are
only ever produced for reading or built from (date, time) pairs.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo


class LocalTimeError(ValueError):
    """A local wall-clock time that does not name exactly one instant."""


def is_nonexistent(local: datetime) -> bool:
    """True for a time in a spring-forward gap (it does not survive a round trip via UTC)."""
    back = local.astimezone(UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None) != local.replace(tzinfo=None)


def is_ambiguous(local: datetime) -> bool:
    """True for a time in an autumn fold (it names two instants)."""
    return (not is_nonexistent(local)) and (
        local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset()
    )


def strict_local_to_utc(naive: datetime, zone: ZoneInfo) -> datetime:
    """The one instant a local time names; raises LocalTimeError if it names none or two."""
    local = naive.replace(tzinfo=zone)
    if is_nonexistent(local):
        raise LocalTimeError(f"{naive:%Y-%m-%d %H:%M} does not exist in {zone.key} (clocks go forward)")
    if is_ambiguous(local):
        raise LocalTimeError(
            f"{naive:%Y-%m-%d %H:%M} is ambiguous in {zone.key} (clocks go back; it happens twice)"
        )
    return local.astimezone(UTC)


def latest_local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant of a wall-clock deadline, resolved in the student's favour.

    In a fold this is the second occurrence; in a gap it is the first instant after the gap
    that shows the same clock reading.
    """
    naive = datetime.combine(day, at)
    return max(naive.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1))


def to_local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone)


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def ceil_minutes(value: Fraction | int) -> int:
    """Whole minutes, any fraction rounded up (in the student's favour)."""
    return math.ceil(value)


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def iso_utc(instant: datetime) -> str:
    """ISO 8601 in UTC with a Z, as the JSON outputs show instants."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
