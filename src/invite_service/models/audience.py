"""The suppression (opt-out) list and audience import jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from invite_service.models.base import Base, BigId, JSONType, TimestampMixin, UTCDateTime
from invite_service.models.enums import ImportStatus


class Suppression(TimestampMixin, Base):
    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(128), nullable=False)
    platform: Mapped[str] = mapped_column(String(32), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    reason: Mapped[str] = mapped_column(String(32), nullable=False)
    # "api", "import", or "reply:<account_id>" (an account id is up to 128 characters).
    source: Mapped[str] = mapped_column(String(160), nullable=False, default="api")
    note: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        UniqueConstraint("user_id", "platform", "kind", "key", name="uq_suppressions_identity"),
        Index("ix_suppressions_user_created", "user_id", "created_at", "id"),
    )


class ImportJob(TimestampMixin, Base):
    __tablename__ = "import_jobs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[str] = mapped_column(String(128), nullable=False)
    task_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid(), ForeignKey("invite_tasks.id", ondelete="CASCADE")
    )
    # Exactly one of task_id / audience_id: an import fills a task's targets or an audience's contacts.
    audience_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid(), ForeignKey("audiences.id", ondelete="CASCADE")
    )
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=ImportStatus.RUNNING)
    filename: Mapped[str | None] = mapped_column(String(255))
    format: Mapped[str | None] = mapped_column(String(16))
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    rows_seen: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_accepted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_duplicate: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_invalid: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_suppressed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    bytes_total: Mapped[int | None] = mapped_column(BigId)
    bytes_read: Mapped[int] = mapped_column(BigId, nullable=False, default=0)
    error_sample: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Which run of the job owns it: a run that starts (first, resumed, redelivered) bumps it, and every
    # write of a run is conditional on its own value, so a stale run stops instead of writing twice.
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")

    __table_args__ = (Index("ix_import_jobs_user_created", "user_id", "created_at", "id"),)


class ImportFile(Base):
    """An uploaded file while its import job runs, in chunks of ~1 MiB (deleted when the job ends).

    In the database, so any worker can read it and it survives restarts of the API and the workers.
    """

    __tablename__ = "import_files"

    job_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class ImportRejection(Base):
    """Every rejected row of an import with its reason, for the downloadable report."""

    __tablename__ = "import_rejections"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("import_jobs.id", ondelete="CASCADE"), nullable=False
    )
    row_number: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(String(32), nullable=False)
    detail: Mapped[str | None] = mapped_column(String(500))
    raw: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    # reason "duplicate": the file row it repeats (null: it repeats a target already in the task).
    duplicate_of_row: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_import_rejections_job", "job_id", "row_number"),)


class ImportMapping(Base):
    """The mapping a user last imported a file of a given header with, offered again by validate.

    A table of its own rather than a column on ``import_jobs``: jobs are deleted with their task, while
    a remembered mapping should outlive it, and finding the latest job of a header among all of a
    user's jobs would need an index on a hash of its columns anyway. A user has far fewer headers than
    jobs, so retention leaves these rows alone. ``header_signature`` is the SHA-256 (hex) of the
    header's normalized column list (``imports.remember.signature``), so a header of any length fits
    the key; one row per (user, header), overwritten by every finished import of a file with that header.
    """

    __tablename__ = "import_mappings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(128), nullable=False)
    header_signature: Mapped[str] = mapped_column(String(64), nullable=False)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (UniqueConstraint("user_id", "header_signature", name="uq_import_mappings_header"),)
