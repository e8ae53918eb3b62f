"""LTI tool: key pairs with rotation state, registration options, and launches (with their nonces).

Revision ID: 0002_lti
Revises: 0001
Create Date: 2026-11-22

The LTI area's own branch off 0001 (`upgrade()` migrates every head). Types are plain
SQLAlchemy types, as in 0001.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_lti"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "lti_tool_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("public_pem", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("retired_at", _timestamp(), nullable=True),
        sa.CheckConstraint("state IN ('active', 'previous', 'retired')", name=op.f("ck_lti_tool_keys_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_tool_keys")),
        sa.UniqueConstraint("kid", name=op.f("uq_lti_tool_keys_kid")),
    )
    op.create_table(
        "lti_registration_options",
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=True),
        sa.Column("accept_new_deployments", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "platform IN ('canvas', 'moodle')", name=op.f("ck_lti_registration_options_platform")
        ),
        sa.CheckConstraint("source IN ('manual', 'dynamic')", name=op.f("ck_lti_registration_options_source")),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["lti_registrations.id"],
            name=op.f("fk_lti_registration_options_registration_id_lti_registrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("registration_id", name=op.f("pk_lti_registration_options")),
    )
    op.create_table(
        "lti_launches",
        sa.Column("launch_id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=255), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("expires_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("launch_id", name=op.f("pk_lti_launches")),
        sa.UniqueConstraint("nonce", name=op.f("uq_lti_launches_nonce")),
    )
    op.create_index(op.f("ix_lti_launches_expires_at"), "lti_launches", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_lti_launches_expires_at"), table_name="lti_launches")
    op.drop_table("lti_launches")
    op.drop_table("lti_registration_options")
    op.drop_table("lti_tool_keys")
