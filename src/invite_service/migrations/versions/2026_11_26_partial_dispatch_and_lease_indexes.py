"""partial dispatch and lease indexes on PostgreSQL

Revision ID: d1b6be375feb
Revises: 3d16608d2e4b
Create Date: 2026-11-26 07:30:00.000000

``ix_invite_targets_dispatch`` serves ``min(next_attempt_at)`` and ``ix_invite_targets_lease`` the
expired-lease sweep (``lease_until < now``); both only ever look at non-NULL values, which PostgreSQL
proves from those queries. A new target has neither, so leaving NULLs out keeps every imported row out
of two indexes. SQLite's planner cannot prove it for ``min()``: it keeps the full indexes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d1b6be375feb"
down_revision: str | None = "3d16608d2e4b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = (
    ("ix_invite_targets_dispatch", ["task_id", "status", "next_attempt_at"], "next_attempt_at"),
    ("ix_invite_targets_lease", ["status", "lease_until"], "lease_until"),
)


def _rebuild(partial: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Built CONCURRENTLY beside the old index, then swapped in: a large invite_targets keeps taking
    # the engine's writes meanwhile (CONCURRENTLY cannot run inside the migration's transaction).
    with op.get_context().autocommit_block():
        for name, columns, nullable in _INDEXES:
            where = sa.text(f"{nullable} IS NOT NULL") if partial else None
            op.create_index(
                f"{name}_new", "invite_targets", columns, postgresql_where=where, postgresql_concurrently=True
            )
            op.drop_index(name, table_name="invite_targets", postgresql_concurrently=True)
            op.execute(f"ALTER INDEX {name}_new RENAME TO {name}")


def upgrade() -> None:
    _rebuild(partial=True)


def downgrade() -> None:
    _rebuild(partial=False)
