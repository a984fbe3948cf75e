"""All SQL of statistics, reports, logs and the scrape-time gauges.

Every read of a task's rows walks an index that starts with ``task_id``: the logs' ``(task_id, id)``
and ``(task_id, at)``, the targets' ``(task_id, id)`` and ``(task_id, status, id)``; the totals come
from ``task_counters`` (one row a task). Nothing here scans a table.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, func, literal_column, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from invite_service.kit.pagination import SortSpec, keyset_page
from invite_service.models import (
    ExecutionLog,
    ImportJob,
    InviteTarget,
    InviteTask,
    Lane,
    RateLimitLedger,
)
from invite_service.models.enums import TargetStatus, TaskStatus
from invite_service.stores.replies import REPLY_ACTION


class epoch_bucket(FunctionElement[int]):  # lower case: it reads like the SQL function it renders
    """``floor(seconds since 1970 / size)``: which ``size``-second slice an instant falls in."""

    type = BigInteger()
    inherit_cache = True
    name = "epoch_bucket"


@compiles(epoch_bucket, "postgresql")
def _bucket_pg(element: epoch_bucket, compiler: SQLCompiler, **kw: Any) -> str:
    column, size = element.clauses
    inner, width = compiler.process(column, **kw), compiler.process(size, **kw)
    # date_part gives a double; extract() a numeric, several times slower to aggregate on.
    return f"CAST(floor(date_part('epoch', {inner}) / {width}) AS BIGINT)"


@compiles(epoch_bucket, "sqlite")
def _bucket_sqlite(element: epoch_bucket, compiler: SQLCompiler, **kw: Any) -> str:
    column, size = element.clauses
    inner, width = compiler.process(column, **kw), compiler.process(size, **kw)
    return f"CAST(CAST(strftime('%s', {inner}) AS INTEGER) / {width} AS INTEGER)"


# -- one task ---------------------------------------------------------------------------------


async def last_activity_at(session: AsyncSession, task_id: uuid.UUID) -> datetime | None:
    """The newest execution log instant (one step down the ``(task_id, at)`` index)."""
    return await session.scalar(select(func.max(ExecutionLog.at)).where(ExecutionLog.task_id == task_id))


HOUR_SECONDS = 3600
# (hour, account_id, action, outcome, error_code, count)
ActivitySelect = Select[int, str | None, str, str, str | None, int]


@dataclass(frozen=True)
class ActivityRow:
    hour: int  # hours since 1970 (UTC)
    account_id: str | None
    action: str
    outcome: str
    error_code: str | None
    count: int


def grouped_log(user_id: str, task_id: uuid.UUID, start: datetime, end: datetime) -> ActivitySelect:
    """Log entries in ``[start, end)`` counted by hour, account, action, outcome and error code.

    Reads only the range of the ``(task_id, at)`` index; the grouping happens in the database, so
    the answer has a row per distinct combination, never a row per log entry.
    """
    hour = epoch_bucket(ExecutionLog.at, literal_column(str(HOUR_SECONDS)))
    stmt: ActivitySelect = (
        select(
            hour,
            ExecutionLog.account_id,
            ExecutionLog.action,
            ExecutionLog.outcome,
            ExecutionLog.error_code,
            func.count(),
        )
        .where(
            ExecutionLog.task_id == task_id,
            ExecutionLog.user_id == user_id,
            ExecutionLog.at >= start,
            ExecutionLog.at < end,
            # Replies are logged for the live log but are not calls: the stats count them in ``replied``.
            ExecutionLog.action != REPLY_ACTION,
        )
        .group_by(
            hour, ExecutionLog.account_id, ExecutionLog.action, ExecutionLog.outcome, ExecutionLog.error_code
        )
    )
    return stmt


def activity_rows(rows: Any) -> list[ActivityRow]:
    return [ActivityRow(int(r[0]), r[1], r[2], r[3], r[4], int(r[5])) for r in rows]


async def activity(
    session: AsyncSession, user_id: str, task_id: uuid.UUID, start: datetime, end: datetime
) -> list[ActivityRow]:
    """The range grouped straight from the log (the stats read the hourly rollup, statistics/hourly.py;
    this is what it must equal)."""
    return activity_rows(await session.execute(grouped_log(user_id, task_id, start, end)))


@dataclass(frozen=True)
class LogFilters:
    outcome: str | None = None
    account_id: str | None = None
    error_code: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.outcome is not None:
            out.append(ExecutionLog.outcome == self.outcome)
        if self.account_id is not None:
            out.append(ExecutionLog.account_id == self.account_id)
        if self.error_code is not None:
            out.append(ExecutionLog.error_code == self.error_code)
        if self.since is not None:
            out.append(ExecutionLog.at >= self.since)
        if self.until is not None:
            out.append(ExecutionLog.at < self.until)
        return out


async def logs_page(
    session: AsyncSession,
    user_id: str,
    task_id: uuid.UUID,
    filters: LogFilters,
    sort: SortSpec,
    cursor: str | None,
    limit: int,
) -> list[ExecutionLog]:
    """One keyset page (``limit + 1`` rows) in time order along ``(task_id, at)`` — the index that also
    serves ``from``/``to`` — with the id as tiebreaker; no count (that would read them all)."""
    stmt: Select[Any] = select(ExecutionLog).where(
        ExecutionLog.task_id == task_id, ExecutionLog.user_id == user_id, *filters.clauses()
    )
    page = keyset_page(stmt, [ExecutionLog.at, ExecutionLog.id], sort, cursor, limit)
    return list((await session.scalars(page)).all())


async def target_keys(session: AsyncSession, task_id: uuid.UUID, target_ids: Sequence[int]) -> dict[int, str]:
    """The keys of a log page's targets (one read along the targets' primary key)."""
    if not target_ids:
        return {}
    stmt = select(InviteTarget.id, InviteTarget.key).where(
        InviteTarget.task_id == task_id, InviteTarget.id.in_(sorted(set(target_ids)))
    )
    return {int(r[0]): str(r[1]) for r in await session.execute(stmt)}


async def lane_labels(session: AsyncSession, task_id: uuid.UUID) -> dict[str, str | None]:
    stmt = select(Lane.account_id, Lane.label).where(Lane.task_id == task_id)
    return {r[0]: r[1] for r in await session.execute(stmt)}


REPORT_COLUMNS = (
    "id",
    "kind",
    "key",
    "username",
    "platform_user_id",
    "phone",
    "first_name",
    "last_name",
    "status",
    "error_code",
    "error_detail",
    "attempts",
    "account_id",
    "processed_at",
    "source",
    "replied_at",
)


async def report_rows(
    session: AsyncSession, user_id: str, task_id: uuid.UUID, after_id: int, limit: int
) -> Sequence[Any]:
    """The next ``limit`` targets after ``after_id`` in id order: a keyset read of ``(task_id, id)``.
    Each row is ``REPORT_COLUMNS`` then ``fields`` (the target's template fields, a dict)."""
    stmt = (
        select(*[getattr(InviteTarget, name) for name in REPORT_COLUMNS], InviteTarget.extra.label("fields"))
        .where(InviteTarget.task_id == task_id, InviteTarget.user_id == user_id, InviteTarget.id > after_id)
        .order_by(InviteTarget.id)
        .limit(limit)
    )
    return (await session.execute(stmt)).all()


async def report_fields(session: AsyncSession, user_id: str, task_id: uuid.UUID) -> list[str]:
    """Every template field name some target of the task has (the report's extra columns): in the
    column order of the task's imports (oldest first), then by the first target that has it, then by
    name. One read of the task's targets along ``(task_id, id)``."""
    # A set-returning function over each target's fields, joined to it (implicitly lateral).
    if session.get_bind().dialect.name == "postgresql":
        keys = func.jsonb_object_keys(InviteTarget.extra).table_valued("key").render_derived()
    else:
        keys = func.json_each(InviteTarget.extra).table_valued("key")
    key = keys.c.key
    stmt = (
        select(key, func.min(InviteTarget.id))
        .select_from(InviteTarget)
        .join(keys, true())
        .where(InviteTarget.task_id == task_id, InviteTarget.user_id == user_id)
        .group_by(key)
    )
    first_seen = {str(name): int(first) for name, first in await session.execute(stmt)}
    if not first_seen:
        return []
    jobs = select(ImportJob.options).where(ImportJob.task_id == task_id, ImportJob.user_id == user_id)
    position: dict[str, int] = {}
    for options in (await session.scalars(jobs.order_by(ImportJob.created_at, ImportJob.id))).all():
        resolved = options.get("resolved_mapping") if isinstance(options, dict) else None
        if isinstance(resolved, dict):
            columns = options.get("columns") or list(resolved)
            for column in columns:
                name = resolved.get(column)
                if isinstance(name, str) and name not in position:
                    position[name] = len(position)
    last = len(position)
    return sorted(first_seen, key=lambda name: (position.get(name, last), first_seen[name], name))


UNSUCCESSFUL = (TargetStatus.FAILED, TargetStatus.SKIPPED, TargetStatus.UNKNOWN)


async def unsuccessful_by_error(
    session: AsyncSession, user_id: str, task_id: uuid.UUID
) -> list[tuple[str, str | None, int]]:
    """Targets that ended badly, counted by status and error code (the ``(task_id, status, id)`` index
    takes the read to just those targets)."""
    stmt = (
        select(InviteTarget.status, InviteTarget.error_code, func.count())
        .where(
            InviteTarget.task_id == task_id,
            InviteTarget.user_id == user_id,
            InviteTarget.status.in_(UNSUCCESSFUL),
        )
        .group_by(InviteTarget.status, InviteTarget.error_code)
    )
    return [(r[0], r[1], int(r[2])) for r in await session.execute(stmt)]


@dataclass(frozen=True)
class LedgerBlock:
    first: datetime
    last: datetime
    count: int


async def ledger_blocks(
    session: AsyncSession, account_ids: Sequence[str], action: str, since: datetime, size: int
) -> dict[str, list[LedgerBlock]]:
    """The accounts' ledger entries after ``since`` (by every task), counted per ``size``-second slice,
    oldest first: exact counts and edges in a few rows per account (``ix_rate_limit_ledger_window``)."""
    if not account_ids:
        return {}
    # The size inline, not a bound parameter: GROUP BY must repeat the very expression it selects.
    bucket = epoch_bucket(RateLimitLedger.at, literal_column(str(max(1, int(size)))))
    stmt = (
        select(
            RateLimitLedger.account_id,
            bucket,
            func.min(RateLimitLedger.at),
            func.max(RateLimitLedger.at),
            func.count(),
        )
        .where(
            RateLimitLedger.account_id.in_(list(account_ids)),
            RateLimitLedger.action == action,
            RateLimitLedger.at > since,
        )
        .group_by(RateLimitLedger.account_id, bucket)
        .order_by(RateLimitLedger.account_id, bucket)
    )
    out: dict[str, list[LedgerBlock]] = {}
    for account_id, _, first, last, count in await session.execute(stmt):
        out.setdefault(account_id, []).append(LedgerBlock(first, last, int(count)))
    return out


async def running_tasks_per_account(
    session: AsyncSession, account_ids: Sequence[str], exclude: uuid.UUID
) -> dict[str, int]:
    """How many OTHER running tasks use each account (they share its caps)."""
    if not account_ids:
        return {}
    stmt = (
        select(Lane.account_id, func.count())
        .join(InviteTask, InviteTask.id == Lane.task_id)
        .where(
            Lane.account_id.in_(list(account_ids)),
            InviteTask.status == TaskStatus.RUNNING,
            InviteTask.id != exclude,
        )
        .group_by(Lane.account_id)
    )
    return {r[0]: int(r[1]) for r in await session.execute(stmt)}


# -- the whole service (scrape-time gauges) ---------------------------------------------------


async def tasks_by_status(session: AsyncSession) -> dict[str, int]:
    """Served from the ``(status, next_run_at)`` index."""
    stmt = select(InviteTask.status, func.count()).group_by(InviteTask.status)
    return {r[0]: int(r[1]) for r in await session.execute(stmt)}


async def running_lanes_by_state(session: AsyncSession) -> dict[str, int]:
    stmt = (
        select(Lane.status, func.count())
        .join(InviteTask, InviteTask.id == Lane.task_id)
        .where(InviteTask.status == TaskStatus.RUNNING)
        .group_by(Lane.status)
    )
    return {r[0]: int(r[1]) for r in await session.execute(stmt)}


async def due_running_tasks_progress(
    session: AsyncSession, due_before: datetime
) -> list[tuple[datetime | None, datetime | None]]:
    """(started_at, last log instant) of every running task the engine should be working on now.

    A task whose ``next_run_at`` lies after ``due_before`` is waiting on purpose (its send window,
    a cooldown, a full cap) and is left out. The last instant is one index step per task.
    """
    last = select(func.max(ExecutionLog.at)).where(ExecutionLog.task_id == InviteTask.id).scalar_subquery()
    stmt = select(InviteTask.started_at, last).where(
        InviteTask.status == TaskStatus.RUNNING,
        (InviteTask.next_run_at.is_(None)) | (InviteTask.next_run_at <= due_before),
    )
    return [(r[0], r[1]) for r in await session.execute(stmt)]
