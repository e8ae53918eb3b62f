"""Jobs: the leader lease, the work queue, exam status, incidents, release shifts,
clarifications, alerts, and APScheduler's job table for the one-node runtime.

Revision ID: 0002_jobs
Revises: 0001
Create Date: 2026-11-22

A branch of its own off 0001 (the store's areas migrate independently; `upgrade()` goes to
"heads"). Plain SQLAlchemy types only, as in 0001.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_jobs"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("jobs",)
depends_on: str | Sequence[str] | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _key() -> sa.String:
    return sa.String(length=255)


def upgrade() -> None:
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", _key(), nullable=True),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("expires_at", _timestamp(), nullable=True),
        sa.Column("acquired_at", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_leases")),
    )
    op.create_table(
        "work_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", _key(), nullable=False),
        sa.Column("due_at", _timestamp(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", _key(), nullable=True),
        sa.Column("claim_expires_at", _timestamp(), nullable=True),
        sa.Column("enqueued_at", _timestamp(), nullable=False),
        sa.Column("enqueued_by", _key(), nullable=False),
        sa.Column("lease_epoch", sa.Integer(), nullable=True),
        sa.Column("started_at", _timestamp(), nullable=True),
        sa.Column("finished_at", _timestamp(), nullable=True),
        sa.Column("completed_by", _key(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'running', 'done', 'failed')", name=op.f("ck_work_items_state")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_work_items_attempts_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_items")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_work_items_dedupe_key")),
    )
    op.create_index(op.f("ix_work_items_state_due_at"), "work_items", ["state", "due_at"])
    op.create_table(
        "exam_status",
        sa.Column("exam_id", _key(), nullable=False),
        sa.Column("course", _key(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("last_read_at", _timestamp(), nullable=True),
        sa.Column("last_read_operations", sa.Integer(), nullable=True),
        sa.Column("last_read_differing", sa.Integer(), nullable=True),
        sa.Column("applied_at", _timestamp(), nullable=True),
        sa.Column("verified_at", _timestamp(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.CheckConstraint(
            "state IN ('planned', 'applied', 'verified', 'drifted', 'failed')", name=op.f("ck_exam_status_state")
        ),
        sa.PrimaryKeyConstraint("exam_id", name=op.f("pk_exam_status")),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exam_id", _key(), nullable=False),
        sa.Column("starts_at", _timestamp(), nullable=False),
        sa.Column("ends_at", _timestamp(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("rule", _key(), nullable=False),
        sa.Column("disruption_minutes", sa.Integer(), nullable=False),
        sa.Column("affected", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("recorded_by", _key(), nullable=False),
        sa.Column("recorded_at", _timestamp(), nullable=False),
        sa.Column("applied_at", _timestamp(), nullable=True),
        sa.CheckConstraint("state IN ('recorded', 'applied', 'failed')", name=op.f("ck_incidents_state")),
        sa.CheckConstraint("disruption_minutes > 0", name=op.f("ck_incidents_minutes_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index(op.f("ix_incidents_exam_id"), "incidents", ["exam_id"])
    op.create_table(
        "release_shifts",
        sa.Column("exam_id", _key(), nullable=False),
        sa.Column("original_start", _timestamp(), nullable=False),
        sa.Column("new_start", _timestamp(), nullable=False),
        sa.Column("shift_minutes", sa.Integer(), nullable=False),
        sa.Column("rule", _key(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_by", _key(), nullable=False),
        sa.Column("recorded_at", _timestamp(), nullable=False),
        sa.Column("applied_at", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("exam_id", name=op.f("pk_release_shifts")),
    )
    op.create_table(
        "clarifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exam_id", _key(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_by", _key(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("sent_at", _timestamp(), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'sent', 'failed')", name=op.f("ck_clarifications_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clarifications")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", _timestamp(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("exam_id", _key(), nullable=True),
        sa.Column("course", _key(), nullable=True),
        sa.Column("work_item_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("acknowledged_at", _timestamp(), nullable=True),
        sa.Column("acknowledged_by", _key(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index(op.f("ix_alerts_at"), "alerts", ["at"])
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apscheduler_jobs")),
    )
    op.create_index(op.f("ix_apscheduler_jobs_next_run_time"), "apscheduler_jobs", ["next_run_time"])


def downgrade() -> None:
    op.drop_index(op.f("ix_apscheduler_jobs_next_run_time"), table_name="apscheduler_jobs")
    op.drop_table("apscheduler_jobs")
    op.drop_index(op.f("ix_alerts_at"), table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("clarifications")
    op.drop_table("release_shifts")
    op.drop_index(op.f("ix_incidents_exam_id"), table_name="incidents")
    op.drop_table("incidents")
    op.drop_table("exam_status")
    op.drop_index(op.f("ix_work_items_state_due_at"), table_name="work_items")
    op.drop_table("work_items")
    op.drop_table("job_leases")
