"""lanes: the table of accounts working for a task takes the name the code and the API use

Revision ID: 5b8e2f61c0a4
Revises: 5e2f8a61c0b7
Create Date: 2026-12-02 10:30:00.000000

``invite_task_accounts`` becomes ``lanes`` (DESIGN's glossary: a lane is one account working for one
task). A rename, not a copy: PostgreSQL renames the table, its index and its constraints in place
(catalog updates only, no rewrite); SQLite renames the table and recreates the one index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5b8e2f61c0a4"
down_revision: str | None = "5e2f8a61c0b7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD, NEW = "invite_task_accounts", "lanes"


def _rename(old: str, new: str) -> None:
    op.rename_table(old, new)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER INDEX ix_{old}_account RENAME TO ix_{new}_account")
        op.execute(f"ALTER TABLE {new} RENAME CONSTRAINT pk_{old} TO pk_{new}")
        op.execute(
            f"ALTER TABLE {new} RENAME CONSTRAINT fk_{old}_task_id_invite_tasks TO fk_{new}_task_id_invite_tasks"
        )
    else:
        op.drop_index(f"ix_{old}_account", table_name=new)
        op.create_index(f"ix_{new}_account", new, ["account_id", "status"])


def upgrade() -> None:
    _rename(OLD, NEW)


def downgrade() -> None:
    _rename(NEW, OLD)
