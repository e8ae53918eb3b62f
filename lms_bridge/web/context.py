"""What every page blueprint shares (the course pages and the exams-office pages): who is
acting, the time, rendering with the launch, and the hooks that keep pages out of caches and
show HTTP errors as the blueprint's own error page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, render_template
from werkzeug.exceptions import HTTPException

from .session import current_launch


def actor() -> str:
    """The launch user, as the audit log names people."""
    ctx = current_launch()
    return f"lti:{ctx.platform}:{ctx.user_sub}"[:255]


def now() -> datetime:
    return datetime.now(UTC)


def render(template: str, status: int = 200, **context: Any):  # noqa: ANN201 - a Flask response tuple
    return render_template(template, ctx=current_launch(), **context), status


def private_pages(bp: Blueprint, error_template: str) -> None:
    """Responses of `bp` are never cached (they name students and their times), and its HTTP
    errors render `error_template`."""

    @bp.after_request
    def _not_cached(response):  # noqa: ANN001, ANN202
        response.headers["Cache-Control"] = "no-store"
        return response

    @bp.errorhandler(HTTPException)
    def _error_page(error: HTTPException):  # noqa: ANN202
        if error.code is None or error.code < 400:
            return error
        return render_template(error_template, heading=error.name, message=error.description,
                               status=error.code), error.code
