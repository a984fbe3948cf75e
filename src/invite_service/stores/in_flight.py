"""Targets in flight: reserved for a lane under a lease, ``sending`` under an operation key, and back to the
pool or finished, each move fenced so a stale worker or a redelivered job changes nothing; and the
leases that ran out, for recovery. The engine's reads and writes of a target (the rest is ``targets``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.models import InviteTarget, InviteTask
from invite_service.models.enums import TargetStatus, TaskStatus
from invite_service.stores.targets import transition


async def reserve(
    session: AsyncSession,
    task_id: uuid.UUID,
    account_id: str,
    n: int,
    now: datetime,
    lease_until: datetime,
    *,
    skip_error_code: str | None = None,
) -> list[int]:
    """Reserve up to ``n`` due pending targets for a lane (SKIP LOCKED on PostgreSQL), leaving out those
    whose error code is ``skip_error_code`` (targets kept for another kind of lane)."""
    conditions = [
        InviteTarget.task_id == task_id,
        InviteTarget.status == TargetStatus.PENDING,
        or_(InviteTarget.next_attempt_at.is_(None), InviteTarget.next_attempt_at <= now),
    ]
    if skip_error_code is not None:
        conditions.append(or_(InviteTarget.error_code.is_(None), InviteTarget.error_code != skip_error_code))
    due = (
        select(InviteTarget.id)
        .where(*conditions)
        .order_by(InviteTarget.id)
        .limit(n)
        .with_for_update(skip_locked=True)
    )
    ids = list((await session.scalars(due)).all())
    if not ids:
        return []
    return await transition(
        session,
        task_id,
        InviteTarget.id.in_(ids),
        [TargetStatus.PENDING],
        TargetStatus.RESERVED,
        account_id=account_id,
        lease_until=lease_until,
    )


async def next_pending_at(session: AsyncSession, task_id: uuid.UUID) -> datetime | None:
    """When the earliest waiting target becomes due (None when none is waiting)."""
    return await session.scalar(
        select(func.min(InviteTarget.next_attempt_at)).where(
            InviteTarget.task_id == task_id, InviteTarget.status == TargetStatus.PENDING
        )
    )


async def targets_by_ids(session: AsyncSession, task_id: uuid.UUID, ids: Sequence[int]) -> list[InviteTarget]:
    stmt = (
        select(InviteTarget)
        .where(InviteTarget.task_id == task_id, InviteTarget.id.in_(list(ids)))
        .order_by(InviteTarget.id)
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(stmt)).all())


async def mark_sending(
    session: AsyncSession,
    task_id: uuid.UUID,
    target_id: int,
    account_id: str,
    key: str,
    lease_until: datetime,
) -> bool:
    """reserved → sending under ``key``, only by the account holding the reservation and only while
    the task is still running: one statement, so a pause that committed before it is always seen
    (the send that passes is the one "in flight") and a redelivered batch job changes nothing."""
    still_running = (
        select(InviteTask.id)
        .where(InviteTask.id == task_id, InviteTask.status == TaskStatus.RUNNING)
        .exists()
    )
    moved = await transition(
        session,
        task_id,
        and_(InviteTarget.id == target_id, InviteTarget.account_id == account_id, still_running),
        [TargetStatus.RESERVED],
        TargetStatus.SENDING,
        operation_key=key,
        lease_until=lease_until,
    )
    return bool(moved)


async def finish_sending(
    session: AsyncSession,
    task_id: uuid.UUID,
    target_id: int,
    key: str | None,
    to_status: str,
    *,
    expired_at: datetime | None = None,
    **values: Any,
) -> bool:
    """sending → ``to_status``, fenced by the operation key: a stale worker or a stale recover whose
    key is no longer the row's changes nothing. ``expired_at``: only while the lease has run out then
    (recovery re-checks what it read). No key: a row sent before operation keys existed."""
    fence = InviteTarget.operation_key.is_(None) if key is None else InviteTarget.operation_key == key
    where = and_(InviteTarget.id == target_id, fence)
    if expired_at is not None:
        where = and_(where, InviteTarget.lease_until < expired_at)
    moved = await transition(session, task_id, where, [TargetStatus.SENDING], to_status, **values)
    return bool(moved)


async def extend_lease(
    session: AsyncSession, target_id: int, key: str | None, lease_until: datetime, *, expired_at: datetime
) -> bool:
    """The platform is still working on ``key``: look again after ``lease_until``."""
    fence = InviteTarget.operation_key.is_(None) if key is None else InviteTarget.operation_key == key
    result = await session.execute(
        update(InviteTarget)
        .where(
            InviteTarget.id == target_id,
            InviteTarget.status == TargetStatus.SENDING,
            fence,
            InviteTarget.lease_until < expired_at,
        )
        .values(lease_until=lease_until)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def release(
    session: AsyncSession, task_id: uuid.UUID, ids: Sequence[int], *, next_attempt_at: datetime | None = None
) -> list[int]:
    """Give reserved targets back to the pool (no attempt charged), due again at ``next_attempt_at``."""
    if not ids:
        return []
    return await transition(
        session,
        task_id,
        InviteTarget.id.in_(list(ids)),
        [TargetStatus.RESERVED],
        TargetStatus.PENDING,
        account_id=None,
        lease_until=None,
        next_attempt_at=next_attempt_at,
    )


async def finish_target(
    session: AsyncSession, task_id: uuid.UUID, target_id: int, from_status: str, to_status: str, **values: Any
) -> bool:
    moved = await transition(
        session, task_id, InviteTarget.id == target_id, [from_status], to_status, **values
    )
    return bool(moved)


async def expired(session: AsyncSession, status: str, now: datetime, limit: int = 1000) -> list[InviteTarget]:
    stmt = (
        select(InviteTarget)
        .where(InviteTarget.status == status, InviteTarget.lease_until < now)
        .order_by(InviteTarget.lease_until)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())
