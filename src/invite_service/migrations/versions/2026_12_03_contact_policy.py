"""contact policy: a user's frequency cap and consent rule, and the send-time contact marks

Revision ID: a3d9e6b2c4f7
Revises: f1c4a7e2b8d5
Create Date: 2026-12-03 04:30:00.000000

New tables only. ``contact_marks`` is keyed by (user, platform, channel, person): a send claims its
row with a conditional upsert, which is the lock that keeps two tasks from contacting one person
within the cooldown.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a3d9e6b2c4f7"
down_revision: str | None = "f1c4a7e2b8d5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "contact_policies",
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("message_cooldown_days", sa.Integer(), server_default="7", nullable=False),
        sa.Column("invite_cooldown_days", sa.Integer(), nullable=True),
        sa.Column("require_consent", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_contact_policies")),
    )
    op.create_table(
        "contact_marks",
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=200), nullable=False),
        sa.Column("person", sa.String(length=80), nullable=False),
        sa.Column("last_at", _TS, nullable=False),
        sa.Column("previous_at", _TS, nullable=True),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("target_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "platform", "channel", "person", name=op.f("pk_contact_marks")),
    )


def downgrade() -> None:
    op.drop_table("contact_marks")
    op.drop_table("contact_policies")
