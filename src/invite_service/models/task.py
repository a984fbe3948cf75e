"""The user's invite task and its per-account lanes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    Uuid,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import false

from invite_service.models.base import Base, JSONType, StrEnumType, TimestampMixin, UTCDateTime
from invite_service.models.enums import PRIORITY_RANK, LaneStatus, Platform, Priority, TaskAction, TaskStatus

_RANK_TO_PRIORITY = {rank: prio for prio, rank in PRIORITY_RANK.items()}


class PriorityType(TypeDecorator[Priority]):
    """Stored as a small integer so that sorting and indexes follow low < normal < high."""

    impl = SmallInteger()
    cache_ok = True

    @property
    def python_type(self) -> type[Priority]:
        return Priority  # the enum, not the stored rank: cursors carry "normal", not 1

    def process_bind_param(self, value: Priority | str | None, dialect: Dialect) -> int | None:
        return None if value is None else PRIORITY_RANK[Priority(value)]

    def process_result_value(self, value: int | None, dialect: Dialect) -> Priority | None:
        return None if value is None else _RANK_TO_PRIORITY[value]


class InviteTask(TimestampMixin, Base):
    __tablename__ = "invite_tasks"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[str] = mapped_column(String(128), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    platform: Mapped[Platform] = mapped_column(StrEnumType(Platform, 32), nullable=False)
    action: Mapped[TaskAction] = mapped_column(StrEnumType(TaskAction, 32), nullable=False)
    destination: Mapped[str | None] = mapped_column(String(255))
    message_template: Mapped[str | None] = mapped_column(Text)
    status: Mapped[TaskStatus] = mapped_column(
        StrEnumType(TaskStatus, 16), nullable=False, default=TaskStatus.DRAFT
    )
    priority: Mapped[Priority] = mapped_column(PriorityType(), nullable=False, default=Priority.NORMAL)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the engine should next look at this task (due times live in the database).
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pause_reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __table_args__ = (
        # One index per sortable column: keyset pages walk (user_id, col, id).
        Index("ix_invite_tasks_user_created", "user_id", "created_at", "id"),
        Index("ix_invite_tasks_user_name", "user_id", "name", "id"),
        Index("ix_invite_tasks_user_priority", "user_id", "priority", "id"),
        Index("ix_invite_tasks_user_status", "user_id", "status", "id"),
        Index("ix_invite_tasks_due", "status", "next_run_at"),
    )
    # Optimistic concurrency: every UPDATE checks and bumps the version (SQLite has no row locks).
    __mapper_args__ = {"version_id_col": version}


class Lane(Base):
    """A lane: one account working for one task."""

    __tablename__ = "lanes"

    task_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("invite_tasks.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    label: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    status: Mapped[LaneStatus] = mapped_column(
        StrEnumType(LaneStatus, 16), nullable=False, default=LaneStatus.ACTIVE
    )
    cooldown_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    restricted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_action_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why ``next_action_at`` holds the lane: "cap" (a full cap window of ``wait_window_seconds``) or
    # nothing (pacing, a short yield). Written with it by ``stores.waiting.park``; read by the API only.
    wait_reason: Mapped[str | None] = mapped_column(String(16))
    wait_window_seconds: Mapped[int | None] = mapped_column(Integer)
    sent: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The account has Telegram Premium (from its status at the task's start or resume): a missing invitee
    # that Premium would admit is retried once through such a lane.
    is_premium: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())

    __table_args__ = (
        Index("ix_lanes_account", "account_id", "status"),
        # The tick's reactivate_lanes (cooldown_until <= now): only lanes waiting out a cooldown are in it,
        # so an idle tick does not grow with the lanes (both planners prove the predicate from ``<=``).
        Index(
            "ix_lanes_cooldown",
            "status",
            "cooldown_until",
            postgresql_where=text("cooldown_until IS NOT NULL"),
            sqlite_where=text("cooldown_until IS NOT NULL"),
        ),
    )
