"""lanes: why next_action_at holds the lane (a full cap window, or nothing)

Revision ID: d2a8f4c6b9e1
Revises: c7f2a5d8e1b3
Create Date: 2026-12-03 00:00:00.000000

``wait_reason`` ("cap" or null) and ``wait_window_seconds`` are written with ``next_action_at`` where
the engine parks a lane, so the API can tell "at the hourly limit until 14:01" from pacing without
reading the ledger. Two nullable columns: nothing is rewritten.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d2a8f4c6b9e1"
down_revision: str | None = "c7f2a5d8e1b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lanes") as batch:
        batch.add_column(sa.Column("wait_reason", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("wait_window_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lanes") as batch:
        batch.drop_column("wait_window_seconds")
        batch.drop_column("wait_reason")
