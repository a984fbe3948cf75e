"""lanes.is_premium: whether the lane's account has Telegram Premium (a missing invitee with
premium_would_allow_invite is retried once through such a lane of the same task)

Revision ID: 7c3d9e15a2b8
Revises: 9d3a7c15e2b8
Create Date: 2026-12-02 14:30:00.000000

A new column with a constant default: PostgreSQL (11+) adds it without a table rewrite; SQLite adds it
in place. The engine fills it from the account status when a task starts or resumes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c3d9e15a2b8"
down_revision: str | None = "9d3a7c15e2b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("lanes", sa.Column("is_premium", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("lanes") as batch:
        batch.drop_column("is_premium")
