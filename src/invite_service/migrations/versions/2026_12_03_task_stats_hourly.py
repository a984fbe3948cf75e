"""task_stats_hourly: the execution log counted per task and closed hour, for /stats

Revision ID: d8f3b1a6e2c9
Revises: a3d9e6b2c4f7
Create Date: 2026-12-03 08:40:00.000000

A new table only (no index to build: the primary key starts with (task_id, hour), the one read). It
starts empty; the first /stats read of a task rolls up its closed hours from the log.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d8f3b1a6e2c9"
down_revision: str | None = "a3d9e6b2c4f7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "task_stats_hourly",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["invite_tasks.id"],
            name=op.f("fk_task_stats_hourly_task_id_invite_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "task_id",
            "hour",
            "account_id",
            "action",
            "outcome",
            "error_code",
            name=op.f("pk_task_stats_hourly"),
        ),
    )


def downgrade() -> None:
    op.drop_table("task_stats_hourly")
