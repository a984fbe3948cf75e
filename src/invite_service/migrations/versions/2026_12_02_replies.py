"""replies: inbound integration events, a target's first reply, the replied counter, longer sources

Revision ID: 9d3a7c15e2b8
Revises: 5b8e2f61c0a4
Create Date: 2026-12-02 14:30:00.000000

``integration_events`` keeps the ids of events received from the Integration Service (a repeat is a
duplicate), per user. ``invite_targets.replied_at`` and ``task_counters.replied`` record replies beside
a target's status. ``suppressions.source`` grows to hold ``reply:<account_id>``. The new columns are
nullable or defaulted: adding them rewrites nothing on PostgreSQL 11+; widening a VARCHAR does not either.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d3a7c15e2b8"
down_revision: str | None = "5b8e2f61c0a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integration_events",
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replied_targets", sa.Integer(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "id", name="pk_integration_events"),
    )
    op.create_index("ix_integration_events_received", "integration_events", ["received_at"])
    with op.batch_alter_table("invite_targets") as batch:
        batch.add_column(sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("task_counters") as batch:
        batch.add_column(sa.Column("replied", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("suppressions") as batch:
        batch.alter_column("source", existing_type=sa.String(length=32), type_=sa.String(length=160))


def downgrade() -> None:
    with op.batch_alter_table("suppressions") as batch:
        batch.alter_column("source", existing_type=sa.String(length=160), type_=sa.String(length=32))
    with op.batch_alter_table("task_counters") as batch:
        batch.drop_column("replied")
    with op.batch_alter_table("invite_targets") as batch:
        batch.drop_column("replied_at")
    op.drop_index("ix_integration_events_received", table_name="integration_events")
    op.drop_table("integration_events")
