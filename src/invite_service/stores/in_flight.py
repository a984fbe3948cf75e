"""Targets in flight: reserved for a lane under a lease, given back to the pool or finished, a send in doubt's
lease extended, and the leases that ran out, for recovery; each move fenced so a stale worker or a
redelivered job changes nothing. The moves into and out of ``sending`` are the send path's own statements
(``stores.send_path``); the rest of the targets aggregate is ``stores.targets``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.models import InviteTarget
from invite_service.models.enums import TargetStatus
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
