"""The target store: targets, their transitions, and the counter deltas written in the same transaction."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, insert, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.kit.clock import utcnow
from invite_service.kit.pagination import SortSpec, keyset_page
from invite_service.kit.search import ESCAPE, contains_pattern
from invite_service.models import (
    InviteTarget,
    InviteTask,
)
from invite_service.models.enums import TargetStatus, TaskStatus
from invite_service.stores import counters

INSERT_CHUNK = 1000  # rows per INSERT: stays under SQLite's and asyncpg's bound-parameter limits
SORT_COLUMNS = {"id": InviteTarget.id, "status": InviteTarget.status}


def _insert_stmt(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(InviteTarget)


async def insert_targets(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[tuple[int, str, str]]:
    """Insert pending targets, skipping identities the task already has.

    Returns (id, kind, key) of the rows actually inserted and bumps the counters to match.
    """
    inserted: list[tuple[int, str, str]] = []
    now = utcnow()
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = [{**row, "created_at": now, "updated_at": now} for row in rows[start : start + INSERT_CHUNK]]
        stmt = (
            _insert_stmt(session)
            .values(chunk)
            .on_conflict_do_nothing(index_elements=["task_id", "kind", "key"])
            .returning(InviteTarget.id, InviteTarget.kind, InviteTarget.key)
        )
        inserted.extend((r[0], r[1], r[2]) for r in await session.execute(stmt))
    if inserted:
        task_id = rows[0]["task_id"]
        kinds = Counter(kind for _id, kind, _key in inserted)
        await counters.apply_counter_deltas(session, task_id, {TargetStatus.PENDING: len(inserted)}, kinds)
    return inserted


def _scoped(user_id: str, task_id: uuid.UUID) -> Select[InviteTarget]:
    return select(InviteTarget).where(InviteTarget.user_id == user_id, InviteTarget.task_id == task_id)


async def list_targets(
    session: AsyncSession,
    user_id: str,
    task_id: uuid.UUID,
    *,
    statuses: Sequence[str],
    kind: str | None,
    q: str | None,
    sort: SortSpec,
    cursor: str | None,
    limit: int,
    error_code: str | None = None,
) -> tuple[list[InviteTarget], int]:
    stmt = _scoped(user_id, task_id)
    if statuses:
        stmt = stmt.where(InviteTarget.status.in_(statuses))
    if error_code:
        stmt = stmt.where(InviteTarget.error_code == error_code)
    if kind:
        stmt = stmt.where(InviteTarget.kind == kind)
    if q:
        pattern = contains_pattern(q)
        stmt = stmt.where(
            or_(
                InviteTarget.username.like(pattern, escape=ESCAPE),
                func.lower(InviteTarget.first_name).like(pattern, escape=ESCAPE),
                func.lower(InviteTarget.last_name).like(pattern, escape=ESCAPE),
            )
        )
    page = keyset_page(stmt, [SORT_COLUMNS[sort.field], InviteTarget.id], sort, cursor, limit)
    rows = list((await session.scalars(page)).all())
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return rows, int(total or 0)


async def get_target(
    session: AsyncSession, user_id: str, task_id: uuid.UUID, target_id: int
) -> InviteTarget | None:
    stmt = _scoped(user_id, task_id).where(InviteTarget.id == target_id)
    return (await session.scalars(stmt)).one_or_none()


def selection(
    user_id: str,
    task_id: uuid.UUID,
    *,
    ids: Sequence[int] | None,
    statuses: Sequence[str],
    kind: str | None,
    allowed_from: Iterable[str],
) -> ColumnElement[bool]:
    """The WHERE clause of a bulk action: the user's targets in the task, by ids or by filter,
    limited to the statuses the action may change."""
    clauses: list[ColumnElement[bool]] = [
        InviteTarget.user_id == user_id,
        InviteTarget.task_id == task_id,
        InviteTarget.status.in_(list(allowed_from)),
    ]
    # ``allowed_from`` is enforced again per status by ``transition``; kept here for deletes.
    if ids is not None:
        clauses.append(InviteTarget.id.in_(list(ids)) if ids else literal(False))
    if statuses:
        clauses.append(InviteTarget.status.in_(list(statuses)))
    if kind:
        clauses.append(InviteTarget.kind == kind)
    return and_(*clauses)


async def group_counts(session: AsyncSession, where: ColumnElement[bool]) -> list[tuple[str, str, int]]:
    stmt = (
        select(InviteTarget.status, InviteTarget.kind, func.count())
        .where(where)
        .group_by(InviteTarget.status, InviteTarget.kind)
    )
    return [(r[0], r[1], int(r[2])) for r in await session.execute(stmt)]


async def delete_where(session: AsyncSession, task_id: uuid.UUID, where: ColumnElement[bool]) -> int:
    """Delete and count exactly what was deleted (RETURNING), whatever ran concurrently."""
    result = await session.execute(
        delete(InviteTarget)
        .where(where)
        .returning(InviteTarget.status, InviteTarget.kind)
        .execution_options(synchronize_session=False)
    )
    status_deltas: Counter[str] = Counter()
    kind_deltas: Counter[str] = Counter()
    for status, kind in result:
        status_deltas[status] -= 1
        kind_deltas[kind] -= 1
    await counters.apply_counter_deltas(session, task_id, status_deltas, kind_deltas)
    return -sum(kind_deltas.values())


async def transition(
    session: AsyncSession,
    task_id: uuid.UUID,
    where: ColumnElement[bool],
    from_statuses: Iterable[str],
    to_status: str,
    **values: Any,
) -> list[int]:
    """Move the targets matching ``where`` from any of ``from_statuses`` to ``to_status``.

    One UPDATE … RETURNING per source status, so the counters move by exactly the rows
    that changed even when another transaction touched the same targets meanwhile.
    Returns the ids moved.
    """
    moved: list[int] = []
    deltas: Counter[str] = Counter()
    for status in from_statuses:
        if status == to_status and not values:
            continue
        result = await session.execute(
            update(InviteTarget)
            .where(where, InviteTarget.task_id == task_id, InviteTarget.status == status)
            .values(status=to_status, updated_at=utcnow(), **values)
            .returning(InviteTarget.id)
            .execution_options(synchronize_session=False)
        )
        ids = [row[0] for row in result]
        deltas[status] -= len(ids)
        deltas[to_status] += len(ids)
        moved.extend(ids)
    await counters.apply_counter_deltas(session, task_id, deltas)
    return moved


COPIED_COLUMNS = (
    "user_id",
    "kind",
    "key",
    "username",
    "platform_user_id",
    "phone",
    "first_name",
    "last_name",
    "extra",
)


async def copy_targets(session: AsyncSession, source_id: uuid.UUID, dest_id: uuid.UUID, user_id: str) -> int:
    """Copy every target of ``source_id`` into ``dest_id`` as pending, in one INSERT … SELECT."""
    now = utcnow()
    src = select(
        literal(dest_id, type_=InviteTarget.task_id.type).label("task_id"),
        *[getattr(InviteTarget, c) for c in COPIED_COLUMNS],
        literal("duplicate").label("source"),
        literal(TargetStatus.PENDING).label("status"),
        literal(0).label("attempts"),
        literal(now, type_=InviteTarget.created_at.type).label("created_at"),
        literal(now, type_=InviteTarget.updated_at.type).label("updated_at"),
    ).where(InviteTarget.task_id == source_id, InviteTarget.user_id == user_id)
    cols = ["task_id", *COPIED_COLUMNS, "source", "status", "attempts", "created_at", "updated_at"]
    await session.execute(insert(InviteTarget).from_select(cols, src))
    groups = await group_counts(session, InviteTarget.task_id == dest_id)
    kinds: Counter[str] = Counter()
    for _status, kind, n in groups:
        kinds[kind] += n
    copied = sum(kinds.values())
    await counters.apply_counter_deltas(session, dest_id, {TargetStatus.PENDING: copied}, kinds)
    return copied


# -- the engine's reads and writes of targets in flight --


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


async def relabel_pending(
    session: AsyncSession,
    task_id: uuid.UUID,
    error_code: str,
    new_code: str | None,
    *,
    fail: bool,
    detail: str,
    now: datetime,
) -> list[int]:
    """Pending targets of the task with ``error_code`` get ``new_code`` and ``detail``; with ``fail``
    they end ``failed`` instead of staying pending."""
    values: dict[str, Any] = {"error_code": new_code, "error_detail": detail}
    if fail:
        values["processed_at"] = now
    to = TargetStatus.FAILED if fail else TargetStatus.PENDING
    return await transition(
        session, task_id, InviteTarget.error_code == error_code, [TargetStatus.PENDING], to, **values
    )
