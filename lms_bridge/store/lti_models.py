"""Tables of the LTI tool: tool key pairs, registration options, and short-lived launch state.

Registrations and deployments themselves live in models.py (LtiRegistrationRow, LtiDeploymentRow).
The launches table is the SQL back end of lms_bridge.lti.state (with Redis configured it stays
empty); its rows carry `expires_at` and are purged once expired. A login in flight is not
stored: its OIDC state is a signed token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, Key, _one_of
from .types import UTCDateTime

TOOL_KEY_STATES = ("active", "previous", "retired")
LTI_PLATFORMS = ("canvas", "moodle")
REGISTRATION_SOURCES = ("manual", "dynamic")


class LtiToolKeyRow(Base):
    """One RSA key pair of the tool. Exactly one is `active` (signs); `previous` keys stay in the
    JWKS so platforms holding them keep verifying; `retired` keys are kept for the record only."""

    __tablename__ = "lti_tool_keys"
    __table_args__ = (CheckConstraint(_one_of("state", TOOL_KEY_STATES), name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_pem: Mapped[str] = mapped_column(Text)  # a secret: never logged nor shown
    public_pem: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LtiRegistrationOptionsRow(Base):
    """What lms_bridge knows about a registration beyond the LTI endpoints."""

    __tablename__ = "lti_registration_options"
    __table_args__ = (
        CheckConstraint(_one_of("platform", LTI_PLATFORMS), name="platform"),
        CheckConstraint(_one_of("source", REGISTRATION_SOURCES), name="source"),
    )

    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registrations.id", ondelete="CASCADE"), primary_key=True
    )
    # canvas | moodle; NULL: told by each launch's tool_platform claim.
    platform: Mapped[str | None] = mapped_column(String(16))
    # Canvas sends a deployment's id only with its first launch (dynamic registration, or an
    # install in a new sub-account); when true such a deployment is recorded instead of refused.
    accept_new_deployments: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(16))


class LtiLaunchRow(Base):
    """A verified launch: its context (lms_bridge.web.launch_context.LaunchContext as JSON) and the
    id_token's nonce, whose unique constraint refuses a second launch with the same token on
    every node sharing the database."""

    __tablename__ = "lti_launches"
    __table_args__ = (Index(None, "expires_at"),)

    launch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(Key, unique=True)
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
