"""Append-only records: the rate-limit ledger, execution logs and audit events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from invite_service.kit.clock import utcnow
from invite_service.models.base import Base, BigId, JSONType, UTCDateTime


class RateLimitLedger(Base):
    """Every send that counted against an account's limits: the source of truth for caps."""

    __tablename__ = "rate_limit_ledger"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(128), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    task_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    target_id: Mapped[int | None] = mapped_column(BigId)

    # ``_at``: the retention job's deletes by age (retention/policy.py) and the Redis rebuild's read of the
    # live windows; so do the two below. ``_account_at``: pacing's latest row of an account in one probe.
    __table_args__ = (
        Index("ix_rate_limit_ledger_window", "account_id", "action", "at"),
        Index("ix_rate_limit_ledger_at", "at"),
        Index("ix_rate_limit_ledger_account_at", "account_id", "at"),
    )


class ExecutionLog(Base):
    __tablename__ = "invite_execution_logs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[uuid.UUID] = mapped_column(Uuid(), nullable=False)
    user_id: Mapped[str] = mapped_column(String(128), nullable=False)
    target_id: Mapped[int | None] = mapped_column(BigId)
    account_id: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    outcome: Mapped[str] = mapped_column(String(32), nullable=False)
    error_code: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    __table_args__ = (
        Index("ix_invite_execution_logs_task", "task_id", "id"),
        Index("ix_invite_execution_logs_task_at", "task_id", "at"),
        Index("ix_invite_execution_logs_at", "at"),
    )


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(128), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    object_type: Mapped[str] = mapped_column(String(32), nullable=False)
    object_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    __table_args__ = (Index("ix_audit_events_user", "user_id", "id"), Index("ix_audit_events_at", "at"))


class IdempotencyKey(Base):
    """A creating POST's first response, replayed for the same key and body."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int] = mapped_column(Integer, nullable=False)
    response: Mapped[Any] = mapped_column(JSONType, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    __table_args__ = (Index("ix_idempotency_keys_created", "created_at"),)


class IntegrationEvent(Base):
    """An inbound event's id, per user: a repeat of it is answered as a duplicate and changes nothing.

    Only ids and what the event did are kept (never a message's text); the retention job deletes rows
    older than ``INVITE_RETENTION_INTEGRATION_EVENT_DAYS`` (30), far beyond the Integration Service's
    retry horizon.
    """

    __tablename__ = "integration_events"

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    replied_targets: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    opted_out: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    __table_args__ = (Index("ix_integration_events_received", "received_at"),)
