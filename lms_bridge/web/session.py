"""Who is asking: the verified LTI launch behind a page request, and the guards pages use.

Third-party cookies are often blocked inside the LMS iframe, so the launch id travels with every
request instead: in the URL query as ``launch=<id>`` and in forms as the hidden field ``launch``.
A cookie (``lms_bridge_launch``) carries it too, only as a convenience when the browser keeps it.
Launch contexts live server-side (SQL by default, Redis when ``REDIS_URL`` is configured), each
with an expiry; a launch id is an unguessable bearer token, so pages must never print it outside
links and forms of this tool.

For pages (the contract):

``current_launch() -> LaunchContext``
    The verified launch of this request; aborts with a 401 page when there is none (or it expired).
``@require_launch`` / ``@require_staff``
    View decorators: any verified launch / a staff launch (403 page for a Learner).
``launch_url(endpoint, **values) -> str``
    ``url_for`` that keeps ``launch=<id>`` in the query.
``csrf_token() -> str`` and ``launch_form_fields() -> Markup``
    A form's CSRF token is HMAC-SHA256(SECRET_KEY, "csrf:" + launch id), the derivation
    lms_bridge.web.csrf checks on the blueprints it protects. In a template, put
    ``{{ launch_form_fields() }}`` inside each ``<form method="post">``: it renders the hidden
    ``launch`` and ``csrf_token`` fields.

Both helpers are also Jinja globals (``launch_url``, ``csrf_token``, ``launch_form_fields``,
``current_launch``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, request, url_for
from markupsafe import Markup, escape
from werkzeug.exceptions import Forbidden, Unauthorized

from .launch_context import LaunchContext

LAUNCH_PARAM = "launch"
LAUNCH_COOKIE = "lms_bridge_launch"
CSRF_FIELD = "csrf_token"
LAUNCH_HEADER = "X-LTI-Launch"

# Methods that change something: their forms carry the launch id (and the CSRF token).
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

F = TypeVar("F", bound=Callable[..., Any])


class LaunchRequired(Unauthorized):
    """No valid launch: the person must open the tool from the LMS course again."""

    description = (
        "This page must be opened from your course in the LMS. Your session may have expired: "
        "go back to the course and open the tool again."
    )


class StaffRequired(Forbidden):
    """A verified launch, but not by course staff."""

    description = "This page is for the course's teaching staff only."


def _launch_store() -> Any:
    return current_app.extensions["lms_bridge.launch_store"]


def requested_launch_id() -> str | None:
    """The launch id this request names (query, form, header, then cookie), unverified."""
    for value in (
        request.args.get(LAUNCH_PARAM),
        request.form.get(LAUNCH_PARAM) if request.method in UNSAFE_METHODS else None,
        request.headers.get(LAUNCH_HEADER),
        request.cookies.get(LAUNCH_COOKIE),
    ):
        if value:
            return value
    return None


def optional_launch() -> LaunchContext | None:
    """The verified launch of this request, or None (no abort)."""
    if "lms_bridge_launch" in g:
        return cast(LaunchContext | None, g.lms_bridge_launch)
    launch_id = requested_launch_id()
    context = None
    if launch_id and len(launch_id) <= 128:
        context = _launch_store().get_launch(launch_id)
    g.lms_bridge_launch = context
    return context


def current_launch() -> LaunchContext:
    """The verified launch of this request; a 401 page when there is none or it expired."""
    context = optional_launch()
    if context is None:
        raise LaunchRequired()
    return context


def require_launch(view: F) -> F:
    """Allow the view only within a verified launch (401 page otherwise)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_launch()
        return view(*args, **kwargs)

    return cast(F, wrapper)


def require_staff(view: F) -> F:
    """Allow the view only to course staff (Instructor, TA, Administrator by context role);
    a Learner gets the 403 page and no data."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_launch().is_staff:
            raise StaffRequired()
        return view(*args, **kwargs)

    return cast(F, wrapper)


def launch_url(endpoint: str, **values: Any) -> str:
    """``url_for(endpoint, **values)`` with this request's launch id in the query."""
    context = current_launch()
    values.setdefault(LAUNCH_PARAM, context.launch_id)
    return url_for(endpoint, **values)


def csrf_token() -> str:
    """The CSRF token of this request's launch (an HMAC of the launch id under SECRET_KEY)."""
    return csrf_token_for(current_launch().launch_id)


def csrf_token_for(launch_id: str) -> str:
    # One derivation, the one lms_bridge.web.csrf checks.
    from .csrf import token_for

    return token_for(launch_id, current_app.config["SECRET_KEY"])


def launch_form_fields() -> Markup:
    """The hidden inputs every form of a page needs: the launch id and the CSRF token."""
    context = current_launch()
    return Markup(
        f'<input type="hidden" name="{LAUNCH_PARAM}" value="{escape(context.launch_id)}">'
        f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token_for(context.launch_id))}">'
    )


def install(app: Any) -> None:
    """Register the Jinja globals (called by the app factory); pages may already have set some."""
    for name, value in (
        ("launch_url", launch_url),
        ("csrf_token", csrf_token),
        ("launch_form_fields", launch_form_fields),
        ("current_launch", optional_launch),
    ):
        app.jinja_env.globals.setdefault(name, value)
