"""The task store: a task, its lanes and its counters.

A user's reads are scoped by user id (another user's task is a 404); the engine reads by the ids it was given.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.errors import NotFound
from invite_service.kit.pagination import SortSpec, keyset_page
from invite_service.kit.search import ESCAPE, contains_pattern
from invite_service.models import (
    InviteTarget,
    InviteTask,
    Lane,
    TaskCounters,
)
from invite_service.models.enums import LaneStatus, TargetStatus, TaskStatus


@dataclass(frozen=True)
class TaskFilters:
    statuses: Sequence[str] = ()
    platform: str | None = None
    priority: str | None = None
    action: str | None = None
    q: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


SORT_COLUMNS = {
    "created_at": InviteTask.created_at,
    "name": InviteTask.name,
    "priority": InviteTask.priority,
    "status": InviteTask.status,
}


def _filtered(user_id: str, f: TaskFilters) -> Select[InviteTask]:
    stmt = select(InviteTask).where(InviteTask.user_id == user_id)
    if f.statuses:
        stmt = stmt.where(InviteTask.status.in_(f.statuses))
    if f.platform:
        stmt = stmt.where(InviteTask.platform == f.platform)
    if f.priority:
        stmt = stmt.where(InviteTask.priority == f.priority)
    if f.action:
        stmt = stmt.where(InviteTask.action == f.action)
    if f.q:
        stmt = stmt.where(func.lower(InviteTask.name).like(contains_pattern(f.q), escape=ESCAPE))
    if f.created_from:
        stmt = stmt.where(InviteTask.created_at >= f.created_from)
    if f.created_to:
        stmt = stmt.where(InviteTask.created_at < f.created_to)
    return stmt


async def list_page(
    session: AsyncSession, user_id: str, f: TaskFilters, sort: SortSpec, cursor: str | None, limit: int
) -> list[tuple[InviteTask, TaskCounters | None]]:
    """One keyset page (``limit + 1`` rows), each task with its counters row: one statement."""
    stmt = _filtered(user_id, f).add_columns(TaskCounters)
    stmt = stmt.outerjoin(TaskCounters, TaskCounters.task_id == InviteTask.id)
    page = keyset_page(stmt, [SORT_COLUMNS[sort.field], InviteTask.id], sort, cursor, limit)
    return [(row[0], row[1]) for row in await session.execute(page)]


async def count_matching(session: AsyncSession, user_id: str, f: TaskFilters) -> int:
    """Every task the filters match: reads all of them, so only when the caller asks for a total."""
    base = _filtered(user_id, f).order_by(None).subquery()
    return int(await session.scalar(select(func.count()).select_from(base)) or 0)


async def get(
    session: AsyncSession, user_id: str, task_id: uuid.UUID, *, for_update: bool = False
) -> InviteTask | None:
    stmt = select(InviteTask).where(InviteTask.id == task_id, InviteTask.user_id == user_id)
    if for_update:
        stmt = stmt.with_for_update()  # a row lock on PostgreSQL; SQLite ignores it (version check instead)
    return (await session.scalars(stmt)).one_or_none()


async def get_many(session: AsyncSession, user_id: str, ids: Sequence[uuid.UUID]) -> list[InviteTask]:
    stmt = select(InviteTask).where(InviteTask.user_id == user_id, InviteTask.id.in_(ids))
    return list((await session.scalars(stmt)).all())


async def add(session: AsyncSession, task: InviteTask) -> InviteTask:
    session.add(task)
    await session.flush()  # no ORM relationship orders the inserts, so the parent goes first
    session.add(TaskCounters(task_id=task.id))
    await session.flush()
    return task


async def delete_task(session: AsyncSession, task: InviteTask) -> None:
    # Children go by ON DELETE CASCADE; delete by statement so large target sets are not loaded.
    await session.execute(delete(InviteTask).where(InviteTask.id == task.id))


async def counters_for(session: AsyncSession, task_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, TaskCounters]:
    if not task_ids:
        return {}
    rows = await session.scalars(select(TaskCounters).where(TaskCounters.task_id.in_(task_ids)))
    return {row.task_id: row for row in rows}


async def lanes_for(session: AsyncSession, task_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Lane]]:
    out: dict[uuid.UUID, list[Lane]] = {tid: [] for tid in task_ids}
    if not task_ids:
        return out
    stmt = select(Lane).where(Lane.task_id.in_(task_ids)).order_by(Lane.task_id, Lane.position)
    for lane in await session.scalars(stmt):
        out[lane.task_id].append(lane)
    return out


async def set_lanes(session: AsyncSession, task_id: uuid.UUID, account_ids: Sequence[str]) -> None:
    """Make the task's lanes exactly ``account_ids``, keeping the state of lanes that stay."""
    existing = {lane.account_id: lane for lane in (await lanes_for(session, [task_id]))[task_id]}
    keep = set(account_ids)
    gone = [acc for acc in existing if acc not in keep]
    if gone:
        await session.execute(delete(Lane).where(Lane.task_id == task_id, Lane.account_id.in_(gone)))
    for position, account_id in enumerate(account_ids):
        lane = existing.get(account_id)
        if lane is None:
            session.add(Lane(task_id=task_id, account_id=account_id, position=position))
        else:
            lane.position = position
    await session.flush()


class TaskNotFound(NotFound):
    code, title = "task_not_found", "Task not found"


async def get_owned(
    session: AsyncSession, user_id: str, task_id: uuid.UUID, *, for_update: bool = False
) -> InviteTask:
    task = await get(session, user_id, task_id, for_update=for_update)
    if task is None:
        raise TaskNotFound(f"No task {task_id}")
    return task


# -- lanes: the accounts view reads the holds a user's lanes record --

HELD = [LaneStatus.COOLING_DOWN, LaneStatus.RESTRICTED, LaneStatus.UNAVAILABLE]


async def held_states(
    session: AsyncSession, user_id: str, account_ids: Sequence[str], now: datetime
) -> dict[str, tuple[str, datetime | None]]:
    """Per account, the strongest hold the user's lanes record (restricted > unavailable > cooling)."""
    if not account_ids:
        return {}
    stmt = (
        select(Lane.account_id, Lane.status, func.max(Lane.cooldown_until))
        .join(InviteTask, InviteTask.id == Lane.task_id)
        .where(
            InviteTask.user_id == user_id,
            Lane.account_id.in_(list(account_ids)),
            Lane.status.in_(HELD),
        )
        .group_by(Lane.account_id, Lane.status)
    )
    rank: dict[str, int] = {LaneStatus.RESTRICTED: 3, LaneStatus.UNAVAILABLE: 2, LaneStatus.COOLING_DOWN: 1}
    out: dict[str, tuple[str, datetime | None]] = {}
    for account_id, status, until in await session.execute(stmt):
        if until is not None and until <= now and status != LaneStatus.UNAVAILABLE:
            continue  # expired, reactivated at the next tick
        best = out.get(account_id)
        if best is None or rank[status] > rank[best[0]]:
            out[account_id] = (status, until)
    return out


OPEN_STATUSES = [TaskStatus.DRAFT, TaskStatus.SCHEDULED, TaskStatus.RUNNING, TaskStatus.PAUSED]


async def open_tasks_using(
    session: AsyncSession, user_id: str, account_ids: Sequence[str]
) -> dict[str, list[tuple[uuid.UUID, str, TaskStatus]]]:
    """Per account, the user's tasks that are not over (draft, scheduled, running, paused) with a lane
    for it: (id, name, status), newest first."""
    out: dict[str, list[tuple[uuid.UUID, str, TaskStatus]]] = {}
    if not account_ids:
        return out
    stmt = (
        select(Lane.account_id, InviteTask.id, InviteTask.name, InviteTask.status)
        .join(InviteTask, InviteTask.id == Lane.task_id)
        .where(
            InviteTask.user_id == user_id,
            Lane.account_id.in_(list(account_ids)),
            InviteTask.status.in_(OPEN_STATUSES),
        )
        .order_by(Lane.account_id, InviteTask.created_at.desc(), InviteTask.id)
    )
    for account_id, task_id, name, status in await session.execute(stmt):
        out.setdefault(account_id, []).append((task_id, name, TaskStatus(status)))
    return out


# -- the engine's reads and writes of tasks, lanes and counters --


async def task(session: AsyncSession, task_id: uuid.UUID, *, for_update: bool = False) -> InviteTask | None:
    stmt = select(InviteTask).where(InviteTask.id == task_id).execution_options(populate_existing=True)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def task_owner(session: AsyncSession, task_id: uuid.UUID) -> str | None:
    return await session.scalar(select(InviteTask.user_id).where(InviteTask.id == task_id))


async def task_status(session: AsyncSession, task_id: uuid.UUID) -> str | None:
    return await session.scalar(select(InviteTask.status).where(InviteTask.id == task_id))


async def set_next_run(session: AsyncSession, task_id: uuid.UUID, when: datetime | None) -> None:
    """When the engine next looks at the task: its own bookkeeping, so ``updated_at`` (what the user
    sees change) is kept; a lane that finishes after the task completed must not touch the task."""
    await session.execute(
        update(InviteTask)
        .where(InviteTask.id == task_id)
        .values(next_run_at=when, updated_at=InviteTask.updated_at)
        .execution_options(synchronize_session=False)
    )


async def lanes(session: AsyncSession, task_id: uuid.UUID) -> list[Lane]:
    stmt = (
        select(Lane)
        .where(Lane.task_id == task_id)
        .order_by(Lane.position)
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(stmt)).all())


async def lane(session: AsyncSession, task_id: uuid.UUID, account_id: str) -> Lane | None:
    stmt = (
        select(Lane)
        .where(Lane.task_id == task_id, Lane.account_id == account_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def busy_accounts(session: AsyncSession, task_id: uuid.UUID) -> set[str]:
    """Accounts of the task that hold reserved or sending targets (a batch is in flight)."""
    stmt = (
        select(InviteTarget.account_id)
        .where(
            InviteTarget.task_id == task_id,
            InviteTarget.status.in_([TargetStatus.RESERVED, TargetStatus.SENDING]),
        )
        .distinct()
    )
    return {row for row in await session.scalars(stmt) if row}


async def counters(session: AsyncSession, task_id: uuid.UUID) -> TaskCounters | None:
    return await session.get(TaskCounters, task_id, populate_existing=True)


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
        update(Lane)
        .where(
            Lane.account_id == account_id,
            Lane.status.in_([LaneStatus.ACTIVE, LaneStatus.COOLING_DOWN]),
        )
        .values(status=status, cooldown_until=until, restricted_at=now, last_error=error)
        .returning(Lane.task_id)
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
        .join(Lane, Lane.task_id == InviteTask.id)
        .where(
            InviteTask.user_id == user_id,
            Lane.account_id == account_id,
            Lane.status == lane_status,
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
        update(Lane)
        .where(
            Lane.task_id.in_(list(task_ids)),
            Lane.account_id == account_id,
            Lane.status == from_status,
        )
        .values(status=LaneStatus.ACTIVE, cooldown_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def restricted_lanes_since(
    session: AsyncSession, task_id: uuid.UUID, since: datetime
) -> tuple[int, int]:
    """(lanes restricted since ``since``, all lanes) for the circuit breaker."""
    total = await session.scalar(select(func.count()).where(Lane.task_id == task_id))
    recent = await session.scalar(
        select(func.count()).where(
            Lane.task_id == task_id,
            Lane.status == LaneStatus.RESTRICTED,
            Lane.restricted_at >= since,
        )
    )
    return int(recent or 0), int(total or 0)


async def higher_priority_waiting(session: AsyncSession, priority: Any, now: datetime) -> bool:
    """Does a higher-priority running task want the worker now: batches reserved and not yet run,
    or a dispatch that is due? (A task waiting on its caps is not due, so it starves no one.)"""
    higher = select(InviteTask.id).where(
        InviteTask.status == TaskStatus.RUNNING, InviteTask.priority > priority
    )
    due = higher.where(or_(InviteTask.next_run_at.is_(None), InviteTask.next_run_at <= now)).limit(1)
    if (await session.scalar(due)) is not None:
        return True
    reserved = (
        select(InviteTarget.id)
        .where(
            InviteTarget.task_id.in_(higher.scalar_subquery()), InviteTarget.status == TargetStatus.RESERVED
        )
        .limit(1)
    )
    return (await session.scalar(reserved)) is not None
