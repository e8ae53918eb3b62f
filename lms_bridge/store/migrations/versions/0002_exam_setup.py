"""Exams keep the exam setter's choices beyond timing (ExamSetup) as JSON.

Revision ID: 0002_exam_setup
Revises: 0001
Create Date: 2026-11-22

Areas of the store keep their own branches off 0001 (exam setup, LTI, jobs); `upgrade()`
migrates every head.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_exam_setup"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("exams") as batch:
        batch.add_column(sa.Column("setup", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exams") as batch:
        batch.drop_column("setup")
