"""The target store: targets, their transitions, and the counter deltas written in the same transaction."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, delete, func, insert, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.kit.clock import utcnow
from invite_service.kit.pagination import SortSpec, keyset_page
from invite_service.kit.search import ESCAPE, contains_pattern
from invite_service.models import (
    InviteTarget,
)
from invite_service.models.enums import TargetStatus
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


STANDARD_FIELD_COLUMNS = {
    "first_name": InviteTarget.first_name,
    "last_name": InviteTarget.last_name,
    "username": InviteTarget.username,
}


async def field_counts(
    session: AsyncSession, task_id: uuid.UUID, statuses: Sequence[TargetStatus] = ()
) -> tuple[dict[str, int], dict[str, int]]:
    """How many of the task's targets (of ``statuses``, or all) have a non-empty value for each template
    field: ``(standard, custom)``, custom keyed by the imported field's name (one JSON key of ``extra``).

    The JSON is expanded in the database (``json_each`` / ``jsonb_each_text``), one row per key a target has.
    """
    where = [InviteTarget.task_id == task_id]
    if statuses:
        where.append(InviteTarget.status.in_(list(statuses)))

    def filled(column: Any) -> Any:
        return func.coalesce(func.sum(case((and_(column.is_not(None), column != ""), 1), else_=0)), 0)

    standard_row = (
        await session.execute(select(*(filled(c) for c in STANDARD_FIELD_COLUMNS.values())).where(*where))
    ).one()
    standard = {name: int(n) for name, n in zip(STANDARD_FIELD_COLUMNS, standard_row, strict=True)}
    if session.get_bind().dialect.name == "postgresql":
        each = func.jsonb_each_text(InviteTarget.extra).table_valued("key", "value").lateral("field")
        present = and_(each.c.value.is_not(None), each.c.value != "")
    else:
        each = func.json_each(InviteTarget.extra).table_valued("key", "value", "type", "atom").alias("field")
        present = and_(each.c.type != "null", or_(each.c.type != "text", each.c.atom != ""))
    stmt = (
        select(each.c.key, func.count())
        .select_from(InviteTarget)
        .join(each, literal(True))
        .where(*where, present)
        .group_by(each.c.key)
    )
    custom = {str(r[0]): int(r[1]) for r in await session.execute(stmt)}
    return standard, custom
