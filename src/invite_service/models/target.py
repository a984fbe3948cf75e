"""Targets of a task, and the per-task counters kept beside them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from invite_service.models.base import Base, BigId, JSONType, StrEnumType, TimestampMixin, UTCDateTime
from invite_service.models.enums import TargetKind, TargetStatus


class InviteTarget(TimestampMixin, Base):
    __tablename__ = "invite_targets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("invite_tasks.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[str] = mapped_column(String(128), nullable=False)
    # The identity the target is keyed by (kind + normalized key), unique in its task.
    kind: Mapped[TargetKind] = mapped_column(StrEnumType(TargetKind, 16), nullable=False)
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    # Every identity we know, normalized: suppression matches on any of them.
    username: Mapped[str | None] = mapped_column(String(64))
    platform_user_id: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(20))
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    source: Mapped[str] = mapped_column(String(32), nullable=False, default="api")
    status: Mapped[TargetStatus] = mapped_column(
        StrEnumType(TargetStatus, 16), nullable=False, default=TargetStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    account_id: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_detail: Mapped[str | None] = mapped_column(String(500))
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Exactly once (DESIGN §5): the Idempotency-Key of the step in flight, set with ``sending``; every
    # write to a sending row is conditional on it (a fencing token). ``lineage`` advances only when
    # the platform provably did not act, so a retry after a crash or an unanswered call reuses the key.
    operation_key: Mapped[str | None] = mapped_column(String(64))
    lineage: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # The person's first reply to the account that contacted them (integration events): a fact beside
    # the status, which stays messaged/invited/... The reply's text is never stored.
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The contact this target was materialised from (or that an import/bulk row matched).
    contact_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="SET NULL"))

    __table_args__ = (
        UniqueConstraint("task_id", "kind", "key", name="uq_invite_targets_identity"),
        # The next retry (``min(next_attempt_at)``) and the expired-lease sweep (``lease_until < now``)
        # only look at non-NULL values; a new target has neither, so on PostgreSQL (whose planner
        # proves that from the queries) an import's rows stay out of both. SQLite keeps them whole.
        Index(
            "ix_invite_targets_dispatch",
            "task_id",
            "status",
            "next_attempt_at",
            postgresql_where=text("next_attempt_at IS NOT NULL"),
        ),
        Index("ix_invite_targets_task_id", "task_id", "id"),
        Index("ix_invite_targets_contact", "contact_id"),
        Index("ix_invite_targets_task_kind", "task_id", "kind", "id"),
        Index("ix_invite_targets_task_status", "task_id", "status", "id"),
        Index(
            "ix_invite_targets_lease",
            "status",
            "lease_until",
            postgresql_where=text("lease_until IS NOT NULL"),
        ),
    )


class TaskCounters(Base):
    """One row a task, one column a target status: stats in O(1) at any task size.

    Changed in the same transaction as the targets it counts.
    """

    __tablename__ = "task_counters"

    task_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("invite_tasks.id", ondelete="CASCADE"), primary_key=True
    )
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    pending: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reserved: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    sending: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    invited: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    messaged: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    already_member: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    skipped: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unknown: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Targets by identity kind, for the audience stats without a scan.
    kind_user_id: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    kind_username: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    kind_phone: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Targets with ``replied_at`` set: not a status, so not part of ``total``'s sum of statuses.
    replied: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
