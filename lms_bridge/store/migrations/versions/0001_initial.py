"""Initial schema: timetable, plans, sittings, policy history, LMS and LTI config, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Written from an autogenerate run, then reviewed. Types are plain SQLAlchemy types so this file
never changes when application code does. DateTime(timezone=True) is timestamptz on PostgreSQL
and plain DATETIME on SQLite, which is what lms_bridge.store.types.UTCDateTime expects.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The audit log is the record: the database itself refuses to alter or erase it, so no code
# path (or hand-typed SQL) can. SQLite's RAISE(ABORT) and PostgreSQL's restrict_violation
# (SQLSTATE 23001) both surface as sqlalchemy.exc.IntegrityError.
_SQLITE_AUDIT_GUARDS = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END""",
]
_POSTGRES_AUDIT_GUARDS = [
    """CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = 'audit_log is append-only: ' || TG_OP || ' refused',
            ERRCODE = 'restrict_violation';
    END
    $$""",
    """CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()""",
    # TRUNCATE skips row triggers, so it needs its own.
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()""",
]


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "exams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exam_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("delivery", sa.String(length=16), nullable=False),
        sa.Column("start_at", _timestamp(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("reading_minutes", sa.Integer(), nullable=True),
        sa.Column("upload_minutes", sa.Integer(), nullable=True),
        sa.Column("course", sa.String(length=255), nullable=True),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.CheckConstraint("delivery IN ('dropbox', 'quiz', 'new_quiz')", name=op.f("ck_exams_delivery")),
        sa.CheckConstraint("duration_minutes > 0", name=op.f("ck_exams_duration_positive")),
        sa.CheckConstraint("reading_minutes >= 0", name=op.f("ck_exams_reading_not_negative")),
        sa.CheckConstraint("upload_minutes >= 0", name=op.f("ck_exams_upload_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exams")),
        sa.UniqueConstraint("exam_id", name=op.f("uq_exams_exam_id")),
    )
    op.create_table(
        "support_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.String(length=255), nullable=False),
        sa.Column("extra_time_percent", sa.Numeric(precision=7, scale=3), nullable=False),
        sa.Column("rest_break_minutes_per_hour", sa.Numeric(precision=7, scale=3), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.CheckConstraint("extra_time_percent >= 0", name=op.f("ck_support_plans_extra_time_not_negative")),
        sa.CheckConstraint("rest_break_minutes_per_hour >= 0", name=op.f("ck_support_plans_rest_break_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_plans")),
        sa.UniqueConstraint("student_id", name=op.f("uq_support_plans_student_id")),
    )
    op.create_table(
        "sittings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exam_pk", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["exam_pk"], ["exams.id"], name=op.f("fk_sittings_exam_pk_exams"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sittings")),
        sa.UniqueConstraint("exam_pk", "student_id", name=op.f("uq_sittings_exam_pk_student_id")),
    )
    op.create_table(
        "policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("activated_at", _timestamp(), nullable=False),
        sa.Column("activated_by", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policies")),
    )
    op.create_table(
        "lms_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.CheckConstraint("kind IN ('canvas', 'moodle')", name=op.f("ck_lms_connections_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_connections")),
        sa.UniqueConstraint("name", name=op.f("uq_lms_connections_name")),
    )
    op.create_table(
        "lti_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("auth_login_url", sa.Text(), nullable=False),
        sa.Column("auth_token_url", sa.Text(), nullable=False),
        sa.Column("key_set_url", sa.Text(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_registrations")),
        sa.UniqueConstraint("issuer", "client_id", name=op.f("uq_lti_registrations_issuer_client_id")),
    )
    op.create_table(
        "lti_deployments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["lti_registrations.id"],
            name=op.f("fk_lti_deployments_registration_id_lti_registrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_deployments")),
        sa.UniqueConstraint(
            "registration_id", "deployment_id", name=op.f("uq_lti_deployments_registration_id_deployment_id")
        ),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", _timestamp(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_entity_entity_id"), "audit_log", ["entity", "entity_id"])

    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        guards = _SQLITE_AUDIT_GUARDS
    elif dialect == "postgresql":
        guards = _POSTGRES_AUDIT_GUARDS
    else:
        raise NotImplementedError(f"no append-only guard for the audit log on {dialect}")
    for statement in guards:
        op.execute(statement)


def downgrade() -> None:
    # Dropping a table drops its triggers; the PostgreSQL function has to go by itself.
    op.drop_index(op.f("ix_audit_log_entity_entity_id"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_log_refuse_change()")
    op.drop_table("lti_deployments")
    op.drop_table("lti_registrations")
    op.drop_table("lms_connections")
    op.drop_table("policies")
    op.drop_table("sittings")
    op.drop_table("support_plans")
    op.drop_table("exams")
