"""All SQL of the execution engine: due tasks, lanes, reservations, outcomes, logs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.models import (
    ExecutionLog,
    InviteTarget,
    InviteTask,
    InviteTaskAccount,
    RateLimitLedger,
    TaskCounters,
)
from invite_service.models.enums import LaneStatus, TargetStatus, TaskStatus
from invite_service.stores import targets as targets

PENDING = TargetStatus.PENDING.value
RESERVED = TargetStatus.RESERVED.value
SENDING = TargetStatus.SENDING.value


async def task(session: AsyncSession, task_id: uuid.UUID, *, for_update: bool = False) -> InviteTask | None:
    stmt = select(InviteTask).where(InviteTask.id == task_id).execution_options(populate_existing=True)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def task_owner(session: AsyncSession, task_id: uuid.UUID) -> str | None:
    return await session.scalar(select(InviteTask.user_id).where(InviteTask.id == task_id))


async def task_status(session: AsyncSession, task_id: uuid.UUID) -> str | None:
    return await session.scalar(select(InviteTask.status).where(InviteTask.id == task_id))


async def due_tasks(
    session: AsyncSession, now: datetime, limit: int = 500
) -> list[tuple[uuid.UUID, str, Any]]:
    """Running tasks whose next run is due, and scheduled tasks whose start has come; high priority first."""
    running = and_(
        InviteTask.status == TaskStatus.RUNNING.value,
        or_(InviteTask.next_run_at.is_(None), InviteTask.next_run_at <= now),
    )
    scheduled = and_(InviteTask.status == TaskStatus.SCHEDULED.value, InviteTask.scheduled_at <= now)
    stmt = (
        select(InviteTask.id, InviteTask.status, InviteTask.priority)
        .where(or_(running, scheduled))
        .order_by(InviteTask.priority.desc(), InviteTask.next_run_at)
        .limit(limit)
    )
    return [(r[0], r[1], r[2]) for r in await session.execute(stmt)]


async def set_next_run(session: AsyncSession, task_id: uuid.UUID, when: datetime | None) -> None:
    await session.execute(
        update(InviteTask)
        .where(InviteTask.id == task_id)
        .values(next_run_at=when)
        .execution_options(synchronize_session=False)
    )


async def lanes(session: AsyncSession, task_id: uuid.UUID) -> list[InviteTaskAccount]:
    stmt = (
        select(InviteTaskAccount)
        .where(InviteTaskAccount.task_id == task_id)
        .order_by(InviteTaskAccount.position)
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(stmt)).all())


async def lane(session: AsyncSession, task_id: uuid.UUID, account_id: str) -> InviteTaskAccount | None:
    stmt = (
        select(InviteTaskAccount)
        .where(InviteTaskAccount.task_id == task_id, InviteTaskAccount.account_id == account_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def reactivate_lanes(session: AsyncSession, now: datetime, task_id: uuid.UUID | None = None) -> int:
    """Lanes whose cooldown or restriction has run out become active again."""
    where = [
        InviteTaskAccount.status.in_([LaneStatus.COOLING_DOWN.value, LaneStatus.RESTRICTED.value]),
        InviteTaskAccount.cooldown_until <= now,
    ]
    if task_id is not None:
        where.append(InviteTaskAccount.task_id == task_id)
    result = await session.execute(
        update(InviteTaskAccount)
        .where(*where)
        .values(status=LaneStatus.ACTIVE.value, cooldown_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def busy_accounts(session: AsyncSession, task_id: uuid.UUID) -> set[str]:
    """Accounts of the task that hold reserved or sending targets (a batch is in flight)."""
    stmt = (
        select(InviteTarget.account_id)
        .where(InviteTarget.task_id == task_id, InviteTarget.status.in_([RESERVED, SENDING]))
        .distinct()
    )
    return {row for row in await session.scalars(stmt) if row}


async def reserve(
    session: AsyncSession, task_id: uuid.UUID, account_id: str, n: int, now: datetime, lease_until: datetime
) -> list[int]:
    """Reserve up to ``n`` due pending targets for a lane (SKIP LOCKED on PostgreSQL)."""
    due = (
        select(InviteTarget.id)
        .where(
            InviteTarget.task_id == task_id,
            InviteTarget.status == PENDING,
            or_(InviteTarget.next_attempt_at.is_(None), InviteTarget.next_attempt_at <= now),
        )
        .order_by(InviteTarget.id)
        .limit(n)
        .with_for_update(skip_locked=True)
    )
    ids = list((await session.scalars(due)).all())
    if not ids:
        return []
    return await targets.transition(
        session,
        task_id,
        InviteTarget.id.in_(ids),
        [PENDING],
        RESERVED,
        account_id=account_id,
        lease_until=lease_until,
    )


async def next_pending_at(session: AsyncSession, task_id: uuid.UUID) -> datetime | None:
    """When the earliest waiting target becomes due (None when none is waiting)."""
    return await session.scalar(
        select(func.min(InviteTarget.next_attempt_at)).where(
            InviteTarget.task_id == task_id, InviteTarget.status == PENDING
        )
    )


async def has_due_pending(session: AsyncSession, task_id: uuid.UUID, now: datetime) -> bool:
    stmt = (
        select(InviteTarget.id)
        .where(
            InviteTarget.task_id == task_id,
            InviteTarget.status == PENDING,
            or_(InviteTarget.next_attempt_at.is_(None), InviteTarget.next_attempt_at <= now),
        )
        .limit(1)
    )
    return (await session.scalar(stmt)) is not None


async def counters(session: AsyncSession, task_id: uuid.UUID) -> TaskCounters | None:
    return await session.get(TaskCounters, task_id, populate_existing=True)


async def targets_by_ids(session: AsyncSession, task_id: uuid.UUID, ids: Sequence[int]) -> list[InviteTarget]:
    stmt = (
        select(InviteTarget)
        .where(InviteTarget.task_id == task_id, InviteTarget.id.in_(list(ids)))
        .order_by(InviteTarget.id)
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(stmt)).all())


def ids_in(ids: Sequence[int]) -> ColumnElement[bool]:
    return InviteTarget.id.in_(list(ids))


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
        .where(InviteTask.id == task_id, InviteTask.status == TaskStatus.RUNNING.value)
        .exists()
    )
    moved = await targets.transition(
        session,
        task_id,
        and_(InviteTarget.id == target_id, InviteTarget.account_id == account_id, still_running),
        [RESERVED],
        SENDING,
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
    moved = await targets.transition(session, task_id, where, [SENDING], to_status, **values)
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
            InviteTarget.status == SENDING,
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
    return await targets.transition(
        session,
        task_id,
        ids_in(ids),
        [RESERVED],
        PENDING,
        account_id=None,
        lease_until=None,
        next_attempt_at=next_attempt_at,
    )


async def finish_target(
    session: AsyncSession, task_id: uuid.UUID, target_id: int, from_status: str, to_status: str, **values: Any
) -> bool:
    moved = await targets.transition(
        session, task_id, InviteTarget.id == target_id, [from_status], to_status, **values
    )
    return bool(moved)


async def log(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(ExecutionLog).values(**values))


async def restrict_account(
    session: AsyncSession,
    account_id: str,
    status: str,
    until: datetime | None,
    now: datetime,
    error: str | None,
) -> list[uuid.UUID]:
    """Put the account's usable lanes in every task into ``status``; returns the tasks touched."""
    result = await session.execute(
        update(InviteTaskAccount)
        .where(
            InviteTaskAccount.account_id == account_id,
            InviteTaskAccount.status.in_([LaneStatus.ACTIVE.value, LaneStatus.COOLING_DOWN.value]),
        )
        .values(status=status, cooldown_until=until, restricted_at=now, last_error=error)
        .returning(InviteTaskAccount.task_id)
        .execution_options(synchronize_session=False)
    )
    return [row[0] for row in result]


async def lock_tasks_with_lane(
    session: AsyncSession, user_id: str, account_id: str, lane_status: str
) -> list[tuple[uuid.UUID, str]]:
    """(id, status) of the user's tasks where the account's lane is in ``lane_status``; their rows
    locked in id order (the engine's lock order: task rows before what hangs off them)."""
    stmt = (
        select(InviteTask.id, InviteTask.status)
        .join(InviteTaskAccount, InviteTaskAccount.task_id == InviteTask.id)
        .where(
            InviteTask.user_id == user_id,
            InviteTaskAccount.account_id == account_id,
            InviteTaskAccount.status == lane_status,
        )
        .order_by(InviteTask.id)
        .with_for_update(of=InviteTask)
    )
    return [(task_id, status) for task_id, status in await session.execute(stmt)]


async def reopen_lanes(
    session: AsyncSession, task_ids: Sequence[uuid.UUID], account_id: str, from_status: str
) -> int:
    """The account's lanes in these tasks, from ``from_status`` back to ``active``."""
    if not task_ids:
        return 0
    result = await session.execute(
        update(InviteTaskAccount)
        .where(
            InviteTaskAccount.task_id.in_(list(task_ids)),
            InviteTaskAccount.account_id == account_id,
            InviteTaskAccount.status == from_status,
        )
        .values(status=LaneStatus.ACTIVE.value, cooldown_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def reserved_for_account(session: AsyncSession, task_id: uuid.UUID, account_id: str) -> list[int]:
    stmt = select(InviteTarget.id).where(
        InviteTarget.task_id == task_id,
        InviteTarget.account_id == account_id,
        InviteTarget.status == RESERVED,
    )
    return list((await session.scalars(stmt)).all())


async def restricted_lanes_since(
    session: AsyncSession, task_id: uuid.UUID, since: datetime
) -> tuple[int, int]:
    """(lanes restricted since ``since``, all lanes) for the circuit breaker."""
    total = await session.scalar(select(func.count()).where(InviteTaskAccount.task_id == task_id))
    recent = await session.scalar(
        select(func.count()).where(
            InviteTaskAccount.task_id == task_id,
            InviteTaskAccount.status == LaneStatus.RESTRICTED.value,
            InviteTaskAccount.restricted_at >= since,
        )
    )
    return int(recent or 0), int(total or 0)


async def expired(session: AsyncSession, status: str, now: datetime, limit: int = 1000) -> list[InviteTarget]:
    stmt = (
        select(InviteTarget)
        .where(InviteTarget.status == status, InviteTarget.lease_until < now)
        .order_by(InviteTarget.lease_until)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


def lease(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)


async def last_action_at(session: AsyncSession, account_id: str) -> datetime | None:
    """The account's latest counted action in any task: pacing is derived from the ledger."""
    return await session.scalar(
        select(func.max(RateLimitLedger.at)).where(RateLimitLedger.account_id == account_id)
    )


async def higher_priority_waiting(session: AsyncSession, priority: Any, now: datetime) -> bool:
    """Does a higher-priority running task want the worker now: batches reserved and not yet run,
    or a dispatch that is due? (A task waiting on its caps is not due, so it starves no one.)"""
    higher = select(InviteTask.id).where(
        InviteTask.status == TaskStatus.RUNNING.value, InviteTask.priority > priority
    )
    due = higher.where(or_(InviteTask.next_run_at.is_(None), InviteTask.next_run_at <= now)).limit(1)
    if (await session.scalar(due)) is not None:
        return True
    reserved = (
        select(InviteTarget.id)
        .where(InviteTarget.task_id.in_(higher.scalar_subquery()), InviteTarget.status == RESERVED)
        .limit(1)
    )
    return (await session.scalar(reserved)) is not None
