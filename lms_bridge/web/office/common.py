"""The office blueprint itself, its guard, and what every office view needs: the store, the
policy's time zone, the LMS connections, who is acting, and times in words."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, request
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import Forbidden

from ...connections import Connections
from ...domain.policy import Policy
from ...jobs.converge import JobError, StoreState, load_state
from ...lms import CourseRef
from ...policies import load_policy
from ...store.repositories import active_policy
from .. import csrf
from ..context import actor, now, private_pages, render  # noqa: F401 - office views use common.actor() and friends
from ..session import current_launch
from . import access

bp = Blueprint("office", __name__, url_prefix="/office")

SESSIONS = "lms_bridge.sessions"
ENGINE = "lms_bridge.engine"
CONNECTIONS = "LMS_BRIDGE_CONNECTIONS"
DEFAULT_POLICY = "LMS_BRIDGE_POLICY"
MAX_UPLOAD_BYTES = "OFFICE_MAX_UPLOAD_BYTES"
DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class OfficeRequired(Forbidden):
    description = (
        "These pages are for the exams office only. Exam setters find their course's exams under "
        "the tool's course pages; if you work in the exams office, ask the tool's administrator "
        "to add you to its exams office list."
    )


@bp.before_request
def _office_only() -> None:
    # Before the CSRF check (registered below): who you are decides first, and a refused
    # person learns nothing about the form.
    if not access.may_use(current_launch(), current_app.config):
        raise OfficeRequired()
    # Uploads are the largest bodies: refuse an oversized one before it is read (413).
    request.max_content_length = int(current_app.config.get(MAX_UPLOAD_BYTES) or DEFAULT_MAX_UPLOAD_BYTES)


csrf.protect(bp)


# Pages name students, their windows and support-plan changes: nobody may keep a copy.
private_pages(bp, "office/error.html")


# --- the store, the policy, the LMS -------------------------------------------------------------


def sessions() -> sessionmaker[Session]:
    return current_app.extensions[SESSIONS]


def engine() -> Any:
    return current_app.extensions[ENGINE]


def store_state(session: Session) -> StoreState | None:
    """The stored policy and period (staggered releases applied), or None before any import."""
    try:
        return load_state(session)
    except JobError:
        return None


def fallback_policy() -> Policy:
    return load_policy(current_app.config.get(DEFAULT_POLICY) or "default")[0]


def zone_of(state: StoreState | None) -> ZoneInfo:
    return (state.policy if state is not None else fallback_policy()).calendar.zone


def active_policy_name(session: Session) -> str | None:
    stored = active_policy(session)
    return None if stored is None else stored.name


def connections() -> Connections:
    """The LMS connections: the app's LMS_BRIDGE_CONNECTIONS, else what the workers use
    (LMS_BRIDGE_CANVAS_URL and friends, then the store's connections)."""
    configured = current_app.config.get(CONNECTIONS)
    if configured is not None:
        return configured
    from ...jobs.cli import connections_for

    return connections_for(engine())


def has_connection(conns: Connections, course: str | None) -> bool:
    if not course:
        return False
    lms = CourseRef.parse(course).lms
    return bool(getattr(conns, f"{lms}_url", None) and getattr(conns, f"{lms}_token", None))


# --- words ----------------------------------------------------------------------------------------


def when(instant: datetime | None, zone: ZoneInfo) -> str:
    """`Tue 1 Dec 2026, 09:30` in the policy's zone."""
    if instant is None:
        return "never"
    local = instant.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def clock(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%H:%M")


def day(value: date) -> str:
    return f"{value:%a} {value.day} {value:%b %Y}"


def local_input(instant: datetime, zone: ZoneInfo) -> str:
    """The value of an `<input type="datetime-local">`."""
    return instant.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def first_error_field(errors: Mapping[str, str]) -> str | None:
    return next(iter(errors), None)
