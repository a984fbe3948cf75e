"""All SQL of invite tasks and their lanes. Every read is scoped by user id."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.errors import NotFound
from invite_service.kit.pagination import SortSpec, keyset_page
from invite_service.kit.search import ESCAPE, contains_pattern
from invite_service.models import InviteTask, InviteTaskAccount, TaskCounters
from invite_service.models.enums import LaneStatus


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


async def list_tasks(
    session: AsyncSession, user_id: str, f: TaskFilters, sort: SortSpec, cursor: str | None, limit: int
) -> tuple[list[InviteTask], int]:
    base = _filtered(user_id, f)
    page = keyset_page(base, [SORT_COLUMNS[sort.field], InviteTask.id], sort, cursor, limit)
    rows = list((await session.scalars(page)).all())
    total = await session.scalar(select(func.count()).select_from(base.order_by(None).subquery()))
    return rows, int(total or 0)


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


async def lanes_for(
    session: AsyncSession, task_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[InviteTaskAccount]]:
    out: dict[uuid.UUID, list[InviteTaskAccount]] = {tid: [] for tid in task_ids}
    if not task_ids:
        return out
    stmt = (
        select(InviteTaskAccount)
        .where(InviteTaskAccount.task_id.in_(task_ids))
        .order_by(InviteTaskAccount.task_id, InviteTaskAccount.position)
    )
    for lane in await session.scalars(stmt):
        out[lane.task_id].append(lane)
    return out


async def set_lanes(session: AsyncSession, task_id: uuid.UUID, account_ids: Sequence[str]) -> None:
    """Make the task's lanes exactly ``account_ids``, keeping the state of lanes that stay."""
    existing = {lane.account_id: lane for lane in (await lanes_for(session, [task_id]))[task_id]}
    keep = set(account_ids)
    gone = [acc for acc in existing if acc not in keep]
    if gone:
        await session.execute(
            delete(InviteTaskAccount).where(
                InviteTaskAccount.task_id == task_id, InviteTaskAccount.account_id.in_(gone)
            )
        )
    for position, account_id in enumerate(account_ids):
        lane = existing.get(account_id)
        if lane is None:
            session.add(InviteTaskAccount(task_id=task_id, account_id=account_id, position=position))
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

HELD = [LaneStatus.COOLING_DOWN.value, LaneStatus.RESTRICTED.value, LaneStatus.UNAVAILABLE.value]


async def held_states(
    session: AsyncSession, user_id: str, account_ids: Sequence[str], now: datetime
) -> dict[str, tuple[str, datetime | None]]:
    """Per account, the strongest hold the user's lanes record (restricted > unavailable > cooling)."""
    if not account_ids:
        return {}
    stmt = (
        select(
            InviteTaskAccount.account_id, InviteTaskAccount.status, func.max(InviteTaskAccount.cooldown_until)
        )
        .join(InviteTask, InviteTask.id == InviteTaskAccount.task_id)
        .where(
            InviteTask.user_id == user_id,
            InviteTaskAccount.account_id.in_(list(account_ids)),
            InviteTaskAccount.status.in_(HELD),
        )
        .group_by(InviteTaskAccount.account_id, InviteTaskAccount.status)
    )
    rank = {LaneStatus.RESTRICTED.value: 3, LaneStatus.UNAVAILABLE.value: 2, LaneStatus.COOLING_DOWN.value: 1}
    out: dict[str, tuple[str, datetime | None]] = {}
    for account_id, status, until in await session.execute(stmt):
        if until is not None and until <= now and status != LaneStatus.UNAVAILABLE.value:
            continue  # expired, reactivated at the next tick
        best = out.get(account_id)
        if best is None or rank[status] > rank[best[0]]:
            out[account_id] = (status, until)
    return out
