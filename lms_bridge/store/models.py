"""The tables. The store keeps only what the LMS cannot hold (ARCHITECTURE.md, principle 1).

Rows are keyed by a surrogate `id`; the natural keys the importer matches on (exam_id,
student_id, ...) carry unique constraints. Constraint names come from the naming convention
so migrations can refer to them on every backend.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, MetaData, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ..domain.model import Delivery
from .types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Identifiers from the timetable and the LMS. PostgreSQL enforces the length and SQLite does not,
# so inputs must validate it for both backends to accept the same data.
Key = String(255)
# Plan numbers: up to 9999.999, exact (never float).
PlanNumber = Numeric(7, 3)
DELIVERIES = tuple(d.value for d in Delivery)
LMS_KINDS = ("canvas", "moodle")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ExamRow(Base):
    __tablename__ = "exams"
    __table_args__ = (
        CheckConstraint(_one_of("delivery", DELIVERIES), name="delivery"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("reading_minutes >= 0", name="reading_not_negative"),
        CheckConstraint("upload_minutes >= 0", name="upload_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[str] = mapped_column(Key, unique=True)
    title: Mapped[str] = mapped_column(Text)
    delivery: Mapped[str] = mapped_column(String(16))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int]
    reading_minutes: Mapped[int | None]
    upload_minutes: Mapped[int | None]
    course: Mapped[str | None] = mapped_column(Key)
    # The exam setter's choices beyond timing (ExamSetup): only the fields that differ from the
    # defaults, so NULL means "all defaults" and a new default reaches every exam that kept it.
    setup: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PlanRow(Base):
    """A support plan: numbers only. No free-text column exists, so no diagnosis can be stored."""

    __tablename__ = "support_plans"
    __table_args__ = (
        CheckConstraint("extra_time_percent >= 0", name="extra_time_not_negative"),
        CheckConstraint("rest_break_minutes_per_hour >= 0", name="rest_break_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[str] = mapped_column(Key, unique=True)
    extra_time_percent: Mapped[Decimal] = mapped_column(PlanNumber)
    rest_break_minutes_per_hour: Mapped[Decimal] = mapped_column(PlanNumber)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SittingRow(Base):
    __tablename__ = "sittings"
    __table_args__ = (UniqueConstraint("exam_pk", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_pk: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"))
    student_id: Mapped[str] = mapped_column(Key)

    exam: Mapped[ExamRow] = relationship()


class PolicyRow(Base):
    """One activation of a policy. History is kept; the newest row (highest id) is in use."""

    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Key)
    source: Mapped[str] = mapped_column(Text)  # the TOML text exactly as read
    sha256: Mapped[str] = mapped_column(String(64))
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    activated_by: Mapped[str] = mapped_column(Key)


class LmsConnectionRow(Base):
    __tablename__ = "lms_connections"
    __table_args__ = (CheckConstraint(_one_of("kind", LMS_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Key, unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    base_url: Mapped[str] = mapped_column(Text)
    token: Mapped[str] = mapped_column(Text)  # a secret: records hide it from repr
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LtiRegistrationRow(Base):
    """An LTI 1.3 platform registration. Hosted Canvas uses one issuer for every client, so the
    key is (issuer, client_id), not the issuer alone."""

    __tablename__ = "lti_registrations"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(Key)
    client_id: Mapped[str] = mapped_column(Key)
    auth_login_url: Mapped[str] = mapped_column(Text)
    auth_token_url: Mapped[str] = mapped_column(Text)
    key_set_url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    deployments: Mapped[list[LtiDeploymentRow]] = relationship(
        back_populates="registration",
        cascade="all, delete-orphan",
        passive_deletes=True,  # the database cascades; no need to load them first
        order_by="LtiDeploymentRow.deployment_id",
    )


class LtiDeploymentRow(Base):
    __tablename__ = "lti_deployments"
    __table_args__ = (UniqueConstraint("registration_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registrations.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(Key)

    registration: Mapped[LtiRegistrationRow] = relationship(back_populates="deployments")


class AuditRow(Base):
    """Append-only (database triggers refuse UPDATE and DELETE; see migration 0001)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "entity", "entity_id"), Index(None, "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(Key)
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(Text)
    # none_as_null: "no before state" is SQL NULL, not the JSON value null.
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    reason: Mapped[str | None] = mapped_column(Text)


# Areas of the store with tables of their own; imported here so Base.metadata holds every table.
from . import job_models, lti_models  # noqa: E402,F401  (after Base: they subclass it)
