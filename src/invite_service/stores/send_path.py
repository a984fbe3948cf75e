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
    BindParameter,
    ColumnElement,
    Select,
    Table,
    Update,
    and_,
    bindparam,
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
    return _consent(who.user_id, who.platform, who.contact_id, who.kind, who.key)


def _consent(user_id: Any, platform: Any, contact_id: Any, kind: Any, key: Any) -> ColumnElement[bool]:
    # Values, or the gate's bindparams standing for them (contact_id None: the target is no contact).
    where = [Contact.user_id == user_id, Contact.platform == platform, Contact.consent_at.is_not(None)]
    if contact_id is not None:
        where.append(Contact.id == contact_id)
    else:
        where += [Contact.kind == kind, Contact.key == key]
    return exists().where(*where)


@dataclass(frozen=True)
class _GateShape:
    """What changes the gate's SQL; everything else is a bound value."""

    pacing: bool
    consent: bool
    by_contact: bool  # the target is a contact (consent by its id, else by kind and key)
    kinds: tuple[str, ...]  # the identities the target has, matched against the suppression list


_GATES: dict[_GateShape, Select[Any]] = {}


def _gate_statement(shape: _GateShape) -> Select[Any]:
    """The gate's statement for one shape, built once: a statement built and cache-keyed for every send
    was a large share of a worker's CPU (SQLAlchemy memoises the key of a statement object it has seen)."""
    stmt = _GATES.get(shape)
    if stmt is not None:
        return stmt
    task_id: BindParameter[uuid.UUID] = bindparam("g_task_id")
    account_id: BindParameter[str] = bindparam("g_account_id")
    user_id: BindParameter[str] = bindparam("g_user_id")
    platform: BindParameter[str] = bindparam("g_platform")
    status = select(InviteTask.status).where(InviteTask.id == task_id).scalar_subquery()
    last: Any = null()
    if shape.pacing:
        # The pacing read's own statement (its index and plan are tested in test_query_plans.py).
        last = ledger.last_action_query(account_id).scalar_subquery()
    clause = matching(user_id, platform, {kind: bindparam(f"g_key_{kind}") for kind in shape.kinds})
    suppressed = exists().where(clause) if clause is not None else false()
    consented: Any = literal(True)
    if shape.consent:
        contact: BindParameter[int] | None = bindparam("g_contact_id") if shape.by_contact else None
        consented = _consent(user_id, platform, contact, bindparam("g_kind"), bindparam("g_key"))
    stmt = (
        select(Lane, status, last, suppressed, consented)
        .where(Lane.task_id == task_id, Lane.account_id == account_id)
        .execution_options(populate_existing=True)
    )
    _GATES[shape] = stmt
    return stmt


async def gate(
    session: AsyncSession, task_id: uuid.UUID, account_id: str, who: Identity, *, pacing: bool, consent: bool
) -> Gate | None:
    """The checks before a send, in one statement (None: the task has no such lane). ``pacing``: read the
    account's latest counted action (any task); ``consent``: whether the target's contact consented."""
    kinds = tuple(kind for kind, key in who.identities.items() if key)
    shape = _GateShape(pacing, consent, who.contact_id is not None, kinds)
    params: dict[str, Any] = {
        "g_task_id": task_id,
        "g_account_id": account_id,
        "g_user_id": who.user_id,
        "g_platform": who.platform,
        **{f"g_key_{kind}": who.identities[kind] for kind in kinds},
    }
    if consent and shape.by_contact:
        params["g_contact_id"] = who.contact_id
    elif consent:
        params.update(g_kind=who.kind, g_key=who.key)
    row = (await session.execute(_gate_statement(shape), params)).first()
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


def _task_and_lane_statement(for_update: bool) -> Select[InviteTask, Lane]:
    stmt = (
        select(InviteTask, Lane)
        .outerjoin(Lane, and_(Lane.task_id == InviteTask.id, Lane.account_id == bindparam("tl_account_id")))
        .where(InviteTask.id == bindparam("tl_task_id"))
        .execution_options(populate_existing=True)
    )
    return stmt.with_for_update(of=InviteTask) if for_update else stmt


# Built once, executed with values (see ``_gate_statement``).
_TASK_AND_LANE = {for_update: _task_and_lane_statement(for_update) for for_update in (False, True)}


async def task_and_lane(
    session: AsyncSession, task_id: uuid.UUID, account_id: str, *, for_update: bool = False
) -> tuple[InviteTask | None, Lane | None]:
    """The task (row-locked with ``for_update``: the task before its targets, as everywhere) and its lane
    for ``account_id``, in one statement."""
    params = {"tl_task_id": task_id, "tl_account_id": account_id}
    row = (await session.execute(_TASK_AND_LANE[for_update], params)).first()
    if row is None:
        return None, None
    return row[0], row[1]
