"""target operation keys: the Idempotency-Key of the step in flight and its lineage

Revision ID: 7c41e0a9b2d5
Revises: d1b6be375feb
Create Date: 2026-12-02 03:30:00.000000

``operation_key`` is set when a target enters ``sending`` and fences every later write to that row;
``lineage`` advances only when the platform provably did not act, so every try of one step (HTTP
retries, retries after a crash, recovery) carries the same key. Both are plain nullable/defaulted
columns: adding them rewrites nothing on PostgreSQL 11+.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c41e0a9b2d5"
down_revision: str | None = "d1b6be375feb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invite_targets") as batch:
        batch.add_column(sa.Column("operation_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("lineage", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("invite_targets") as batch:
        batch.drop_column("lineage")
        batch.drop_column("operation_key")
