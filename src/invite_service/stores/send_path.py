"""The send path's statements, shaped for few round trips (issue 17): a send is one transaction for the gate,
the ledger row, ``sending`` and the contact mark, and one for the outcome.

- ``gate``: every check before a send in one SELECT (task status, the lane, the account's last counted
  action, the suppression list, consent).
- ``move_target``: one target from one status to another and the task's counters with it, returning the
  counters after the move (the progress event needs no re-read). On PostgreSQL one statement (the target's
  UPDATE is a CTE the counters' UPDATE counts); on SQLite, which has no data-modifying CTEs, two.
- ``task_and_lane``: the task (locked, for the outcome) and one of its lanes in one SELECT.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    Update,
    and_,
    exists,
    false,
    func,
    insert,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.kit.clock import utcnow
from invite_service.limits import ledger
from invite_service.models import (
    Contact,
    ExecutionLog,
    InviteTarget,
    InviteTask,
    Lane,
    TaskCounters,
)
from invite_service.models.enums import TargetStatus, TaskStatus
from invite_service.stores.suppressions import matching

# The tables under the send path's Core statements (``__table__`` is typed as a plain FromClause).
_TARGETS = cast(Table, InviteTarget.__table__)
_COUNTERS = cast(Table, TaskCounters.__table__)
_LANES = cast(Table, Lane.__table__)
_LOGS = cast(Table, ExecutionLog.__table__)


@dataclass(frozen=True)
class Gate:
    """What the checks before a send read: ``lane`` is the session's row (parking it writes it)."""

    task_status: str | None
    lane: Lane
    last_action_at: datetime | None
    suppressed: bool
    consented: bool


@dataclass(frozen=True)
class Identity:
    """Who a target is, for the suppression list and consent."""

    user_id: str
    platform: str
    contact_id: int | None
    kind: str
    key: str
    identities: Mapping[str, str | None]


def consent_given(who: Identity) -> ColumnElement[bool]:
    """The target's contact has consent recorded (a target that is no contact has none)."""
    where = [Contact.user_id == who.user_id, Contact.platform == who.platform]
    where.append(Contact.consent_at.is_not(None))
    if who.contact_id is not None:
        where.append(Contact.id == who.contact_id)
    else:
        where += [Contact.kind == who.kind, Contact.key == who.key]
    return exists().where(*where)


async def gate(
    session: AsyncSession, task_id: uuid.UUID, account_id: str, who: Identity, *, pacing: bool, consent: bool
) -> Gate | None:
    """The checks before a send, in one statement (None: the task has no such lane). ``pacing``: read the
    account's latest counted action (any task); ``consent``: whether the target's contact consented."""
    status = select(InviteTask.status).where(InviteTask.id == task_id).scalar_subquery()
    last: Any = null()
    if pacing:
        # The pacing read's own statement (its index and plan are tested in test_query_plans.py).
        last = ledger.last_action_query(account_id).scalar_subquery()
    clause = matching(who.user_id, who.platform, who.identities)
    suppressed = exists().where(clause) if clause is not None else false()
    consented = consent_given(who) if consent else literal(True)
    stmt = (
        select(Lane, status, last, suppressed, consented)
        .where(Lane.task_id == task_id, Lane.account_id == account_id)
        .execution_options(populate_existing=True)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    lane, task_status, last_at, is_suppressed, has_consent = row
    return Gate(task_status, lane, last_at, bool(is_suppressed), bool(has_consent))


def _counters(values: Mapping[Any, Any]) -> TaskCounters:
    """A detached snapshot of the counters row as a statement returned it (read-only)."""
    return TaskCounters(**{c.key: values[c.key] for c in _COUNTERS.columns})


@dataclass(frozen=True)
class LaneStep:
    """What one send does to its lane: when it was used and may act next, what to add to its tallies."""

    account_id: str
    used_at: datetime
    next_action_at: datetime
    sent: int = 0
    failed: int = 0
    last_error: str | None = None  # written with a failure


def _lane_update(task_id: uuid.UUID, step: LaneStep) -> Update:
    lanes = _LANES
    values: dict[Any, Any] = {
        lanes.c.last_used_at: step.used_at,
        lanes.c.next_action_at: step.next_action_at,  # pacing: not a wait to report (stores.waiting.park)
        lanes.c.wait_reason: None,
        lanes.c.wait_window_seconds: None,
    }
    if step.sent:
        values[lanes.c.sent] = lanes.c.sent + step.sent  # an increment: no read of the lane needed
    if step.failed:
        values[lanes.c.failed] = lanes.c.failed + step.failed
        values[lanes.c.last_error] = step.last_error
    return (
        update(lanes).where(lanes.c.task_id == task_id, lanes.c.account_id == step.account_id).values(values)
    )


def _log_insert(log: Mapping[str, Any], moved: Any) -> Any:
    """INSERT … SELECT from the moved rows: the log row exists only when the target moved."""
    logs = _LOGS
    row = select(*[literal(value, type_=logs.c[name].type) for name, value in log.items()]).select_from(moved)
    return insert(logs).from_select(list(log), row)


@dataclass(frozen=True)
class Moved:
    """A target moved: the counters after the move, and whether the contact mark was claimed with it."""

    counters: TaskCounters
    claimed: bool = True


async def move_target(
    session: AsyncSession,
    task_id: uuid.UUID,
    where: ColumnElement[bool],
    from_status: str,
    to_status: str,
    values: Mapping[str, Any],
    *,
    log: Mapping[str, Any] | None = None,
    lane: LaneStep | None = None,
    claim: Any = None,
) -> Moved | None:
    """Move the one target matching ``where`` from ``from_status`` to ``to_status`` with ``values``, and the
    counters by the rows that moved; if it moved, add the ``log`` row, apply the ``lane`` step and run the
    ``claim`` statement (a contact mark; a row returned means claimed). None when nothing moved (nothing
    but the claim was written then: the caller rolls back)."""
    targets, counters = _TARGETS, _COUNTERS
    moved_stmt = (
        update(targets)
        .where(where, targets.c.task_id == task_id, targets.c.status == from_status)
        .values(status=to_status, updated_at=utcnow(), **values)
        .returning(targets.c.id)
    )

    def deltas(n: Any) -> dict[Any, Any]:
        if from_status == to_status:
            return {counters.c.task_id: counters.c.task_id}  # nothing changes; the row is still returned
        source, dest = counters.c[from_status], counters.c[to_status]
        return {source: source - n, dest: dest + n}

    claimed: Any = literal(True)
    if session.get_bind().dialect.name == "postgresql":
        # One statement: the target's UPDATE, the log's INSERT, the lane's UPDATE and the claim are CTEs
        # (each runs to completion, read or not); the counters' UPDATE counts the moved rows and returns.
        moved = moved_stmt.cte("moved")
        n = select(func.count()).select_from(moved).scalar_subquery()
        stmt = update(counters).where(counters.c.task_id == task_id, n > 0).values(deltas(n))
        if log is not None:
            stmt = stmt.add_cte(_log_insert(log, moved).cte("logged"))
        if lane is not None:
            laned = _lane_update(task_id, lane).where(select(moved.c.id).exists())
            stmt = stmt.add_cte(laned.cte("laned"))
        if claim is not None:
            taken = claim.cte("claimed")
            stmt = stmt.add_cte(taken)
            claimed = select(func.count()).select_from(taken).scalar_subquery() > 0
    else:  # SQLite has no data-modifying CTEs: one statement each
        if (await session.execute(moved_stmt)).first() is None:
            return None
        if log is not None:
            await session.execute(insert(_LOGS).values(**log))
        if lane is not None:
            await session.execute(_lane_update(task_id, lane))
        if claim is not None:
            claimed = literal((await session.execute(claim)).first() is not None)
        stmt = update(counters).where(counters.c.task_id == task_id).values(deltas(1))
    row = (await session.execute(stmt.returning(*counters.c, claimed.label("claimed")))).first()
    if row is None:
        return None
    return Moved(_counters(row._mapping), bool(row.claimed))


def running(task_id: uuid.UUID) -> ColumnElement[bool]:
    """The task is still running: ``sending`` is set only under it, so a pause that committed first wins."""
    return (
        select(InviteTask.id)
        .where(InviteTask.id == task_id, InviteTask.status == TaskStatus.RUNNING)
        .exists()
    )


async def mark_sending(
    session: AsyncSession,
    task_id: uuid.UUID,
    target_id: int,
    account_id: str,
    key: str,
    lease_until: datetime,
    claim: Any = None,
) -> tuple[bool, bool]:
    """reserved → sending under ``key``, only by the account holding the reservation and only while the task
    still runs (a pause that committed first wins), with the contact mark's ``claim`` statement (None: no
    cap to claim). Returns (marked, claimed); commit only when both hold."""
    where = and_(InviteTarget.id == target_id, InviteTarget.account_id == account_id, running(task_id))
    values = {"operation_key": key, "lease_until": lease_until}
    moved = await move_target(
        session, task_id, where, TargetStatus.RESERVED, TargetStatus.SENDING, values, claim=claim
    )
    return (moved is not None, moved.claimed if moved is not None else True)


async def finish_sending(
    session: AsyncSession,
    task_id: uuid.UUID,
    target_id: int,
    key: str | None,
    to_status: str,
    values: Mapping[str, Any],
    *,
    expired_at: datetime | None = None,
    log: Mapping[str, Any] | None = None,
    lane: LaneStep | None = None,
) -> TaskCounters | None:
    """sending → ``to_status`` fenced by the operation key (a stale worker or recover changes nothing), with
    the outcome's log row and lane step; the counters after the move, or None when the row was not ours."""
    fence = InviteTarget.operation_key.is_(None) if key is None else InviteTarget.operation_key == key
    where = and_(InviteTarget.id == target_id, fence)
    if expired_at is not None:
        where = and_(where, InviteTarget.lease_until < expired_at)
    moved = await move_target(
        session, task_id, where, TargetStatus.SENDING, to_status, values, log=log, lane=lane
    )
    return moved.counters if moved is not None else None


async def task_and_lane(
    session: AsyncSession, task_id: uuid.UUID, account_id: str, *, for_update: bool = False
) -> tuple[InviteTask | None, Lane | None]:
    """The task (row-locked with ``for_update``: the task before its targets, as everywhere) and its lane
    for ``account_id``, in one statement."""
    stmt = (
        select(InviteTask, Lane)
        .outerjoin(Lane, and_(Lane.task_id == InviteTask.id, Lane.account_id == account_id))
        .where(InviteTask.id == task_id)
        .execution_options(populate_existing=True)
    )
    if for_update:
        stmt = stmt.with_for_update(of=InviteTask)
    row = (await session.execute(stmt)).first()
    if row is None:
        return None, None
    return row[0], row[1]
