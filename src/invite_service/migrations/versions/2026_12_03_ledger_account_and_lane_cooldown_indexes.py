"""indexes for bounded ledger reads and the tick: rate_limit_ledger (account_id, at) and the lanes that
wait out a cooldown

Revision ID: c7e2a9f4d1b3
Revises: d8f3b1a6e2c9
Create Date: 2026-12-03 08:30:00.000000

``ix_rate_limit_ledger_account_at`` serves pacing's ``max(at) WHERE account_id = …`` (limits/ledger.py) as
one backward index probe; ``ix_rate_limit_ledger_window`` leads with the action, so it made PostgreSQL read
every row of the account. ``ix_lanes_cooldown`` serves the tick's ``reactivate_lanes`` (``status IN (…) AND
cooldown_until <= now``): only lanes with a cooldown are in it, which both planners prove from the
comparison even with bound parameters (a predicate on the status values would not survive a generic plan).
On PostgreSQL both are built CONCURRENTLY (outside the migration's transaction), so a large ledger keeps
taking the engine's writes meanwhile.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c7e2a9f4d1b3"
down_revision: str | None = "d8f3b1a6e2c9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COOLDOWN = sa.text("cooldown_until IS NOT NULL")
_INDEXES: tuple[tuple[str, str, list[str], sa.TextClause | None], ...] = (
    ("ix_rate_limit_ledger_account_at", "rate_limit_ledger", ["account_id", "at"], None),
    ("ix_lanes_cooldown", "lanes", ["status", "cooldown_until"], _COOLDOWN),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for name, table, columns, where in _INDEXES:
                op.create_index(
                    name,
                    table,
                    columns,
                    postgresql_where=where,
                    postgresql_concurrently=True,
                    if_not_exists=True,
                )
    else:
        for name, table, columns, where in _INDEXES:
            op.create_index(name, table, columns, sqlite_where=where)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for name, table, _columns, _where in _INDEXES:
                op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
    else:
        for name, table, _columns, _where in _INDEXES:
            op.drop_index(name, table_name=table)
