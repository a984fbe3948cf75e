"""The ticker's statements: claim the due tasks and reactivate the lanes whose wait has run out.

Set-based, so a tick costs a few statements however many tasks are due: one UPDATE claims a page of due
tasks and returns them (``execution.engine.tick`` pages through all of them in one tick), one UPDATE
reactivates every lane whose cooldown has run out, by ``ix_lanes_cooldown``.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ARRAY, BindParameter, ColumnElement, and_, any_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningUpdate, Update

from invite_service.models import InviteTask, Lane
from invite_service.models.enums import LaneStatus, Priority, TaskStatus


def _status(value: TaskStatus) -> BindParameter[TaskStatus]:
    """A status fixed by the code, written into the SQL: the planner sees it in a generic plan too (then
    it picks ``ix_invite_tasks_due``, not a scan of every task)."""
    return bindparam(None, value, type_=InviteTask.status.type, literal_execute=True)


def _due(now: datetime) -> ColumnElement[bool]:
    """Running tasks whose next run is due, and scheduled tasks whose start has come."""
    running = and_(
        InviteTask.status == _status(TaskStatus.RUNNING),
        or_(InviteTask.next_run_at.is_(None), InviteTask.next_run_at <= now),
    )
    scheduled = and_(
        InviteTask.status == _status(TaskStatus.SCHEDULED),
        InviteTask.scheduled_at <= now,
    )
    return or_(running, scheduled)


def claim_due_statement(
    now: datetime, until: datetime, limit: int, *, postgresql: bool
) -> ReturningUpdate[uuid.UUID, TaskStatus, Priority]:
    """One UPDATE that claims up to ``limit`` due tasks (high priority, then the longest due, first) by
    moving their next run to ``until``, and returns them. ``SKIP LOCKED`` (PostgreSQL; SQLite has one
    writer) passes over a task a dispatcher or a control call holds: it sets the next run itself, and a
    second ticker claims disjoint tasks instead of waiting.

    On PostgreSQL the page is ``id = ANY(ARRAY(…))``: chosen once, then updated by primary key. With
    ``id IN (…)`` the planner hash-joins the page against a scan of every task, finished ones included.
    """
    due = (
        select(InviteTask.id)
        .where(_due(now))
        .order_by(InviteTask.priority.desc(), InviteTask.next_run_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    page = (
        InviteTask.id == any_(func.array(due, type_=ARRAY(InviteTask.id.type)))
        if postgresql
        else InviteTask.id.in_(due)
    )
    return (
        update(InviteTask)
        .where(page)
        .values(next_run_at=until, updated_at=InviteTask.updated_at)  # a claim is not a change the user sees
        .returning(InviteTask.id, InviteTask.status, InviteTask.priority)
        .execution_options(synchronize_session=False)
    )


async def claim_due(
    session: AsyncSession, now: datetime, until: datetime, limit: int
) -> list[tuple[uuid.UUID, TaskStatus, Priority]]:
    """Claim a page of due tasks (see ``claim_due_statement``); high priority first, as the page was
    chosen (RETURNING keeps no order)."""
    stmt = claim_due_statement(now, until, limit, postgresql=session.get_bind().dialect.name == "postgresql")
    rows = [(r[0], r[1], r[2]) for r in await session.execute(stmt)]
    return sorted(rows, key=lambda row: row[2].rank, reverse=True)


def reactivate_lanes_statement(now: datetime, task_id: uuid.UUID | None = None) -> Update:
    """Lanes whose cooldown or restriction has run out become active again. Across all tasks (the tick)
    it walks ``ix_lanes_cooldown``, which holds only lanes with a cooldown: an idle tick does not grow
    with the lanes; for one task (dispatch), the primary key."""
    where = [
        Lane.status.in_([LaneStatus.COOLING_DOWN, LaneStatus.RESTRICTED]),
        Lane.cooldown_until <= now,
    ]
    if task_id is not None:
        where.append(Lane.task_id == task_id)
    return (
        update(Lane)
        .where(*where)
        .values(status=LaneStatus.ACTIVE, cooldown_until=None)
        .execution_options(synchronize_session=False)
    )


async def reactivate_lanes(session: AsyncSession, now: datetime, task_id: uuid.UUID | None = None) -> int:
    """Run ``reactivate_lanes_statement``; how many lanes became active."""
    result = await session.execute(reactivate_lanes_statement(now, task_id))
    return int(getattr(result, "rowcount", 0) or 0)
