"""All SQL of retention: one batch of deletes of rows past their period (``retention/policy.py`` picks the
cutoffs and runs the batches, each in its own short transaction).

A batch is ``DELETE … WHERE <key> IN (SELECT <key> … WHERE <old> LIMIT n)``: SQLite and PostgreSQL both run
it, it locks at most ``n`` rows, and the sub-select walks the index on the column ``<old>`` compares
(``ix_…_at`` / ``ix_…_created`` / ``ix_…_received``; migration ``b4e1d7a9c3f2``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Result, delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.models import (
    AuditEvent,
    ExecutionLog,
    IdempotencyKey,
    ImportFile,
    ImportJob,
    ImportRejection,
    IntegrationEvent,
    RateLimitLedger,
)
from invite_service.models.enums import ImportStatus
from invite_service.models.notifications import DeliveryStatus, NotificationDelivery, NotificationEvent


def _deleted(result: Result[Any]) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


async def delete_ledger_before(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    old = select(RateLimitLedger.id).where(RateLimitLedger.at < cutoff).limit(limit)
    return _deleted(await session.execute(delete(RateLimitLedger).where(RateLimitLedger.id.in_(old))))


async def delete_execution_logs_before(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    old = select(ExecutionLog.id).where(ExecutionLog.at < cutoff).limit(limit)
    return _deleted(await session.execute(delete(ExecutionLog).where(ExecutionLog.id.in_(old))))


async def delete_audit_events_before(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    old = select(AuditEvent.id).where(AuditEvent.at < cutoff).limit(limit)
    return _deleted(await session.execute(delete(AuditEvent).where(AuditEvent.id.in_(old))))


async def delete_idempotency_keys_before(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    key = (IdempotencyKey.user_id, IdempotencyKey.scope, IdempotencyKey.key)
    old = select(*key).where(IdempotencyKey.created_at < cutoff).limit(limit)
    return _deleted(await session.execute(delete(IdempotencyKey).where(tuple_(*key).in_(old))))


async def delete_integration_events_before(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    key = (IntegrationEvent.user_id, IntegrationEvent.id)
    old = select(*key).where(IntegrationEvent.received_at < cutoff).limit(limit)
    return _deleted(await session.execute(delete(IntegrationEvent).where(tuple_(*key).in_(old))))


def _ended_before(cutoff: datetime) -> ColumnElement[bool]:
    """An import job that left ``running`` before ``cutoff`` (a running job's rows are never touched)."""
    ended = func.coalesce(ImportJob.finished_at, ImportJob.updated_at)
    return (ImportJob.status != ImportStatus.RUNNING) & (ended < cutoff)


async def delete_import_files_ended_before(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    """Uploaded files of jobs that ended: every end drops its file, so this is the safety net."""
    key = (ImportFile.job_id, ImportFile.seq)
    old = select(*key).join(ImportJob, ImportJob.id == ImportFile.job_id).where(_ended_before(cutoff))
    return _deleted(await session.execute(delete(ImportFile).where(tuple_(*key).in_(old.limit(limit)))))


async def delete_import_rejections_ended_before(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    old = (
        select(ImportRejection.id)
        .join(ImportJob, ImportJob.id == ImportRejection.job_id)
        .where(_ended_before(cutoff))
        .limit(limit)
    )
    return _deleted(await session.execute(delete(ImportRejection).where(ImportRejection.id.in_(old))))


async def delete_notification_deliveries_before(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    """Finished deliveries (the delivery log); a pending or retrying one is never touched."""
    finished = NotificationDelivery.status.in_([DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED])
    old = (
        select(NotificationDelivery.id).where(NotificationDelivery.created_at < cutoff, finished).limit(limit)
    )
    return _deleted(
        await session.execute(
            delete(NotificationDelivery).where(NotificationDelivery.id.in_(old.limit(limit)))
        )
    )


async def delete_notification_events_before(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    """Feed events with no delivery left: a delivery still open (or redelivered) needs its event's data."""
    left = select(NotificationDelivery.id).where(NotificationDelivery.event_id == NotificationEvent.id)
    old = (
        select(NotificationEvent.id).where(NotificationEvent.created_at < cutoff, ~left.exists()).limit(limit)
    )
    return _deleted(await session.execute(delete(NotificationEvent).where(NotificationEvent.id.in_(old))))
