"""import files: the uploaded file of a running import job, in chunks, and the job's run counter

Revision ID: 5e2f8a61c0b7
Revises: 7c41e0a9b2d5
Create Date: 2026-12-02 10:00:00.000000

Imports run as jobs on the job queue (Celery workers in production), so the uploaded file is kept where
any worker can read it: ``import_files`` rows of ~1 MiB, written with the job and deleted when it ends.
``import_jobs.attempt`` counts the runs of a job; every write of a run is conditional on its own value.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e2f8a61c0b7"
down_revision: str | None = "7c41e0a9b2d5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_files",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["import_jobs.id"],
            name=op.f("fk_import_files_job_id_import_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "seq", name=op.f("pk_import_files")),
    )
    with op.batch_alter_table("import_jobs") as batch:
        batch.add_column(sa.Column("attempt", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch:
        batch.drop_column("attempt")
    op.drop_table("import_files")
