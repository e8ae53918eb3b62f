"""Errors raised by the Canvas REST client.

Every error names the HTTP method, the API path (without the query string) and, when Canvas
answered, the status and Canvas's own message. None of them ever carries the request body or
the token: request bodies hold per-student timings derived from support plans, which must not
reach logs or error reports.

    CanvasError
    ├── CanvasBadRequest        400, with Canvas's parsed ``errors`` payload
    ├── CanvasUnauthenticated   401 with WWW-Authenticate: the token is invalid or expired
    ├── CanvasForbidden         403, or 401 without WWW-Authenticate: not allowed
    ├── CanvasNotFound          404
    ├── CanvasUnprocessable     422
    ├── CanvasServerError       5xx, after the retries allowed for an idempotent request
    ├── CanvasThrottled         still rate-limited after the bounded retries
    ├── CanvasTransportError    timeout or connection failure, after retries
    └── CanvasUncertainWrite    a non-idempotent write failed in a way that leaves its effect unknown
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CanvasBadRequest",
    "CanvasError",
    "CanvasForbidden",
    "CanvasNotFound",
    "CanvasServerError",
    "CanvasThrottled",
    "CanvasTransportError",
    "CanvasUnauthenticated",
    "CanvasUncertainWrite",
    "CanvasUnprocessable",
]


class CanvasError(Exception):
    """A Canvas request failed. ``status`` is None when no HTTP response was received."""

    def __init__(self, method: str, path: str, status: int | None = None, detail: str = "") -> None:
        self.method = method
        self.path = path
        self.status = status
        self.detail = detail
        super().__init__(self._describe())

    def _describe(self) -> str:
        head = (
            f"Canvas answered {self.status} to {self.method} {self.path}"
            if self.status is not None
            else f"{self.method} {self.path} failed"
        )
        return f"{head}: {self.detail}" if self.detail else head


class CanvasBadRequest(CanvasError):
    """400: Canvas rejected the parameters. ``errors`` is Canvas's ``errors`` payload as parsed
    JSON (a list of strings, a list of {"message": ...}, an attribute → errors mapping, or a
    positional list for batch endpoints), or the whole body when it has no ``errors`` key."""

    def __init__(
        self, method: str, path: str, status: int | None = 400, detail: str = "", *, errors: Any = None
    ) -> None:
        self.errors = errors
        super().__init__(method, path, status, detail)


class CanvasUnauthenticated(CanvasError):
    """401 with ``WWW-Authenticate``: the token is invalid, expired or revoked."""


class CanvasForbidden(CanvasError):
    """The token is valid but may not do this (403, or 401 without ``WWW-Authenticate`` on
    instances without the ``api_auth_error_updates`` flag)."""


class CanvasNotFound(CanvasError):
    """404: the object does not exist, or is not visible to the token's user."""


class CanvasUnprocessable(CanvasError):
    """422: understood but refused (e.g. New Quizzes accommodations on a Classic Quiz)."""


class CanvasServerError(CanvasError):
    """5xx that persisted through the retries allowed for an idempotent request."""


class CanvasThrottled(CanvasError):
    """Canvas still throttled the request after ``attempts`` tries. Nothing was executed."""

    def __init__(
        self, method: str, path: str, status: int | None = 429, detail: str = "", *, attempts: int = 0
    ) -> None:
        self.attempts = attempts
        super().__init__(method, path, status, detail)


class CanvasTransportError(CanvasError):
    """No HTTP response: timeout or connection failure, after the allowed retries."""


class CanvasUncertainWrite(CanvasError):
    """A non-idempotent write (a POST not marked ``idempotent=True``) may or may not have taken
    effect: a 5xx, a timeout or a dropped connection after the request was sent. Canvas has no
    idempotency keys, so retrying blindly could duplicate the object: read back, reconcile, and
    only then retry. ``status`` is the 5xx status, or None when no response arrived."""
