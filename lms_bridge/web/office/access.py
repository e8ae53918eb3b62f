"""Who may use the exams office's pages.

A verified LTI launch (from any course) opens the office pages when either holds:

1. the launching user is listed in the app's ``EXAMS_OFFICE`` configuration as
   ``"<issuer>|<sub>"`` (the platform's issuer URL and the user's LTI ``sub``, exactly as the
   launch carries them; ``lms-bridge`` shows both in the audit log as the actor
   ``lti:<platform>:<sub>``). The list may also come from the environment,
   ``LMS_BRIDGE_EXAMS_OFFICE``, comma-separated. A listed person is an exams officer whatever
   their role in the course they launched from: the grant is by identity, set by the tool's
   administrator, never by course membership;
2. the launch's *context* role is ``Administrator`` (``membership#Administrator``), unless
   ``EXAMS_OFFICE_ADMINISTRATORS`` is set to false. Institution and system roles never count
   (the LTI layer drops them), and on Canvas a staff role counts only with the course
   permissions the LTI layer checks (``lms_bridge.lti.claims``).

Everyone else gets the 403 page before any data is read: a course Instructor or teaching
assistant (who has the course pages under /course/ instead), and every Learner. Moodle sends
site administrators as course Instructors, so Moodle exams officers are granted by listing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from ..launch_context import LaunchContext, Role

MEMBERS = "EXAMS_OFFICE"
ADMINISTRATORS = "EXAMS_OFFICE_ADMINISTRATORS"
MEMBERS_ENV = "LMS_BRIDGE_EXAMS_OFFICE"


def identity(ctx: LaunchContext) -> str:
    """How a person is named in ``EXAMS_OFFICE``: ``issuer|sub``."""
    return f"{ctx.issuer}|{ctx.user_sub}"


def members(config: Mapping[str, Any]) -> frozenset[str]:
    """The identities the configuration lists (a list, or a comma-separated string)."""
    listed: Any = config.get(MEMBERS)
    if listed is None:
        listed = os.environ.get(MEMBERS_ENV) or ()
    if isinstance(listed, str):
        listed = listed.split(",")
    return frozenset(str(m).strip() for m in _iterable(listed) if str(m).strip())


def _iterable(value: Any) -> Iterable[Any]:
    return value if isinstance(value, (list, tuple, set, frozenset)) else ()


def _truthy(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    return bool(value)


def may_use(ctx: LaunchContext, config: Mapping[str, Any]) -> bool:
    """True if this launch opens the exams office's pages (see the module docstring)."""
    if identity(ctx) in members(config):
        return True
    return _truthy(config.get(ADMINISTRATORS), True) and Role.ADMINISTRATOR in ctx.roles
