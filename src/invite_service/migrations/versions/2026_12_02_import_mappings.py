"""import mappings: the mapping last used per (user, header), and the row a duplicate repeats

Revision ID: e5b3c9d1a7f4
Revises: c7f2a5d8e1b3
Create Date: 2026-12-02 23:00:00.000000

``import_mappings`` remembers, per user and file header (a SHA-256 of the normalized column list), the
mapping the last finished import of such a file used; ``POST /import/validate`` offers it again.
``import_rejections.duplicate_of_row`` names the row a ``duplicate`` rejection repeats. The new
column is nullable: adding it rewrites nothing on PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "e5b3c9d1a7f4"
down_revision: str | None = "c7f2a5d8e1b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_mappings",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("header_signature", sa.String(length=64), nullable=False),
        sa.Column(
            "mapping",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_import_mappings"),
        sa.UniqueConstraint("user_id", "header_signature", name="uq_import_mappings_header"),
    )
    with op.batch_alter_table("import_rejections") as batch:
        batch.add_column(sa.Column("duplicate_of_row", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("import_rejections") as batch:
        batch.drop_column("duplicate_of_row")
    op.drop_table("import_mappings")
