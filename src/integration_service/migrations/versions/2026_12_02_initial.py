"""initial: accounts, operations, outbox_events

Revision ID: a1c0e7d2b913
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a1c0e7d2b913"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("label", sa.String(128), nullable=False),
        sa.Column("telegram_user_id", sa.String(20)),
        sa.Column("username", sa.String(64)),
        sa.Column("is_premium", sa.Boolean, nullable=False),
        sa.Column("phone_hint", sa.String(2)),
        sa.Column("session_ciphertext", sa.LargeBinary),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_detail", sa.String(256)),
        sa.Column("flood_wait_until", sa.DateTime(timezone=True)),
        sa.Column("restricted_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_accounts_user_id", "accounts", ["user_id"])
    op.create_table(
        "operations",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("fingerprint", sa.String(256), nullable=False),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result_status", sa.Integer),
        sa.Column("result_body", sa.JSON),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_operations_completed_at", "operations", ["completed_at"])
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_outbox_events_next_attempt_at", "outbox_events", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_table("outbox_events")
    op.drop_table("operations")
    op.drop_index("ix_accounts_user_id", "accounts")
    op.drop_table("accounts")
