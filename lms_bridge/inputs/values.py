"""Parsing single cells. Each parser returns the value or raises ValueError with a message
fit to follow "file row N, column C: "."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from zoneinfo import ZoneInfo

from ..domain.timeutil import LocalTimeError, strict_local_to_utc

_LOCAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2})?")
_OFFSET = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9:.]+(Z|[+-][0-9]{2}:?[0-9]{2})", re.IGNORECASE)
_DECIMAL = re.compile(r"[0-9]{1,6}(\.[0-9]+)?")
MAX_DECIMALS = 3  # the store keeps plan numbers as NUMERIC(7, 3)
MAX_ID_LENGTH = 255
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def parse_instant(text: str, zone: ZoneInfo) -> datetime:
    """`YYYY-MM-DD HH:MM` local to the policy zone, or ISO 8601 with an offset; UTC out."""
    if not (_LOCAL.fullmatch(text) or _OFFSET.fullmatch(text)):
        raise ValueError(f"{text!r} is not a time as YYYY-MM-DD HH:MM (local) or ISO 8601 with an offset")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text} is not a real date and time") from None
    _plausible(value, text)
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    try:
        return strict_local_to_utc(value, zone)
    except LocalTimeError as exc:
        raise ValueError(str(exc)) from None


def _plausible(value: datetime, text: str) -> None:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"{text} is not a plausible exam date")
    if value.second or value.microsecond:
        raise ValueError(f"{text} is not on a whole minute")


def parse_int(text: str, *, low: int, high: int, what: str = "minutes") -> int:
    if not re.fullmatch(r"-?[0-9]{1,9}", text):
        raise ValueError(f"{text!r} is not a whole number of {what}")
    value = int(text)
    if value < low:
        raise ValueError(f"{value} is below the minimum of {low}")
    if value > high:
        raise ValueError(f"{value} is more than the policy's limit of {high} {what}")
    return value


def parse_plan_number(text: str, *, high: int) -> Fraction:
    """A support-plan number. Messages never repeat the value: plan data stays out of errors."""
    if text.startswith("-") and _DECIMAL.fullmatch(text[1:]):
        raise ValueError(f"must not be negative (allowed: 0 to {high})")
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"not a number (allowed: 0 to {high})")
    try:
        value = Fraction(Decimal(text))
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise ValueError(f"not a number (allowed: 0 to {high})") from None
    if value > high:
        raise ValueError(f"above the policy's limit (allowed: 0 to {high})")
    if "." in text and len(text.split(".")[1]) > MAX_DECIMALS:
        raise ValueError(f"use at most {MAX_DECIMALS} decimal places")
    return value


def parse_id(text: str, what: str) -> str:
    """A required identifier (exam id, student id)."""
    if not text:
        raise ValueError(f"{what} is required")
    if len(text) > MAX_ID_LENGTH:
        raise ValueError(f"{what} is longer than {MAX_ID_LENGTH} characters")
    return text
