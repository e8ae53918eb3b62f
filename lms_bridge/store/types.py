"""Column types that keep the store's instants exact and unambiguous."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.types import DateTime, TypeDecorator, TypeEngine


class NaiveDateTimeError(ValueError):
    """A datetime without a UTC offset: it does not name an instant, so it is refused."""


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: `timestamptz` on PostgreSQL, naive UTC text on SQLite (which has no zone type).

    Writes must be aware (any zone; converted to UTC). Reads are always aware UTC, whatever the
    PostgreSQL session's TimeZone, so callers never compare naive with aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(DateTime(timezone=dialect.name == "postgresql"))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDateTimeError("naive datetime refused: the store keeps aware UTC instants only")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite: stored as naive UTC
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def require_aware(value: datetime, name: str) -> None:
    """Refuse a naive datetime early, with the argument's name, before it reaches a flush."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDateTimeError(f"{name} must be an aware datetime (UTC)")
