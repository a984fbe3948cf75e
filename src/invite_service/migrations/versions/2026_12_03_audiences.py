"""audiences: contacts, their tags, audiences and their members, the audiences of a task

Revision ID: f1c4a7e2b8d5
Revises: e5b3c9d1a7f4
Create Date: 2026-12-03 04:00:00.000000

New tables only, plus two nullable columns: ``invite_targets.contact_id`` (the contact a target came
from; SET NULL when the contact is deleted) and ``import_jobs.audience_id`` (an import into an
audience rather than a task). Nullable columns rewrite nothing on PostgreSQL; SQLite copies the two
tables in batch mode to add the foreign keys.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "f1c4a7e2b8d5"
down_revision: str | None = "e5b3c9d1a7f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("platform_user_id", sa.String(length=32), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("first_name", sa.String(length=200), nullable=True),
        sa.Column("last_name", sa.String(length=200), nullable=True),
        sa.Column("fields", _JSON, nullable=False),
        sa.Column("consent_source", sa.String(length=64), nullable=True),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consent_note", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contacts"),
        sa.UniqueConstraint("user_id", "platform", "kind", "key", name="uq_contacts_identity"),
    )
    op.create_index("ix_contacts_username", "contacts", ["user_id", "platform", "username"])
    op.create_index("ix_contacts_platform_user_id", "contacts", ["user_id", "platform", "platform_user_id"])
    op.create_index("ix_contacts_phone", "contacts", ["user_id", "platform", "phone"])
    op.create_index("ix_contacts_user_created", "contacts", ["user_id", "created_at", "id"])
    op.create_table(
        "contact_tags",
        sa.Column("contact_id", _BIG_ID, nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name="fk_contact_tags_contact_id_contacts", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("contact_id", "tag", name="pk_contact_tags"),
    )
    op.create_index("ix_contact_tags_tag", "contact_tags", ["tag", "contact_id"])
    op.create_table(
        "audiences",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audiences"),
        sa.UniqueConstraint("user_id", "name", name="uq_audiences_name"),
    )
    op.create_index("ix_audiences_user_created", "audiences", ["user_id", "created_at", "id"])
    op.create_table(
        "audience_members",
        sa.Column("audience_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", _BIG_ID, nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["audience_id"],
            ["audiences.id"],
            name="fk_audience_members_audience_id_audiences",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name="fk_audience_members_contact_id_contacts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("audience_id", "contact_id", name="pk_audience_members"),
    )
    op.create_index("ix_audience_members_contact", "audience_members", ["contact_id"])
    op.create_table(
        "task_audiences",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("audience_id", sa.Uuid(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["invite_tasks.id"],
            name="fk_task_audiences_task_id_invite_tasks",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["audience_id"],
            ["audiences.id"],
            name="fk_task_audiences_audience_id_audiences",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("task_id", "audience_id", name="pk_task_audiences"),
    )
    with op.batch_alter_table("invite_targets") as batch:
        batch.add_column(sa.Column("contact_id", _BIG_ID, nullable=True))
        batch.create_foreign_key(
            "fk_invite_targets_contact_id_contacts", "contacts", ["contact_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_invite_targets_contact", ["contact_id"])
    with op.batch_alter_table("import_jobs") as batch:
        batch.add_column(sa.Column("audience_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            "fk_import_jobs_audience_id_audiences", "audiences", ["audience_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch:
        batch.drop_constraint("fk_import_jobs_audience_id_audiences", type_="foreignkey")
        batch.drop_column("audience_id")
    with op.batch_alter_table("invite_targets") as batch:
        batch.drop_index("ix_invite_targets_contact")
        batch.drop_constraint("fk_invite_targets_contact_id_contacts", type_="foreignkey")
        batch.drop_column("contact_id")
    op.drop_table("task_audiences")
    op.drop_index("ix_audience_members_contact", table_name="audience_members")
    op.drop_table("audience_members")
    op.drop_index("ix_audiences_user_created", table_name="audiences")
    op.drop_table("audiences")
    op.drop_index("ix_contact_tags_tag", table_name="contact_tags")
    op.drop_table("contact_tags")
    op.drop_index("ix_contacts_user_created", table_name="contacts")
    op.drop_index("ix_contacts_phone", table_name="contacts")
    op.drop_index("ix_contacts_platform_user_id", table_name="contacts")
    op.drop_index("ix_contacts_username", table_name="contacts")
    op.drop_table("contacts")
