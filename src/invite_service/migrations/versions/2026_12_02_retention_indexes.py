"""indexes on the columns the retention job deletes by (rate_limit_ledger.at, invite_execution_logs.at,
audit_events.at)

Revision ID: b4e1d7a9c3f2
Revises: 7c3d9e15a2b8
Create Date: 2026-12-02 17:30:00.000000

The retention job (retention/policy.py) deletes rows older than a cutoff in small batches; without an index
on the age column each batch's sub-select would scan the whole table. idempotency_keys.created_at and
integration_events.received_at are indexed already. On PostgreSQL the indexes are built CONCURRENTLY
(outside the migration's transaction), so a large ledger or log table keeps taking writes meanwhile.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b4e1d7a9c3f2"
down_revision: str | None = "7c3d9e15a2b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = (
    ("ix_rate_limit_ledger_at", "rate_limit_ledger"),
    ("ix_invite_execution_logs_at", "invite_execution_logs"),
    ("ix_audit_events_at", "audit_events"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for name, table in _INDEXES:
                op.create_index(name, table, ["at"], postgresql_concurrently=True, if_not_exists=True)
    else:
        for name, table in _INDEXES:
            op.create_index(name, table, ["at"])


def downgrade() -> None:
    concurrently = op.get_bind().dialect.name == "postgresql"
    if concurrently:
        with op.get_context().autocommit_block():
            for name, table in _INDEXES:
                op.drop_index(name, table_name=table, postgresql_concurrently=True)
    else:
        for name, table in _INDEXES:
            op.drop_index(name, table_name=table)
