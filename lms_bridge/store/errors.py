"""The store's own errors. Their messages never carry support-plan numbers."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of the store's own errors."""


class InvalidPeriodError(StoreError, ValueError):
    """The period cannot be stored as given; nothing was written."""


class NotFoundError(StoreError, LookupError):
    """A row the operation needs does not exist."""
