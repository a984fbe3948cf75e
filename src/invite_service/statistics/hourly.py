"""The stats' calls per hour from an hourly rollup of the log (``task_stats_hourly``), not the log itself.

Why a rollup filled at read time: a task's range of the log is up to 7 days of calls (every send, every
check), and grouping it per hour was most of a ``/stats`` request. The rollup holds one row per hour,
account, action, outcome and error code, so a range costs O(hours) once rolled up (the first read of a
task rolls up all of its closed log). It is filled when ``/stats`` reads,
for the task's closed hours not rolled up yet, so the send path gains no statement.

An hour is closed ``SETTLE`` after it ends: a log row's ``at`` is taken before its transaction commits,
so a row may still appear for an hour that has just ended. What is not closed yet, and the partial
hours at the edges of a range that does not start or end on the hour, are grouped live from the log
(a short range of the ``(task_id, at)`` index). The rollup grows contiguously from the task's first
hour: the hours after its newest row are rolled up in one ``INSERT … SELECT`` that skips rows already
there, so two readers at once, or a reader after a crash, write the same rows once. A row of count 0
marks the last hour rolled up (an idle task's empty hours are read once).
"""

from __future__ import annotations

import typing
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import BigInteger, String, cast, func, literal, null, select, true, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.models import InviteTask
from invite_service.models.task_stats import NONE, TaskStatsHour
from invite_service.statistics.repository import (
    HOUR_SECONDS,
    ActivityRow,
    ActivitySelect,
    activity_rows,
    grouped_log,
)

SETTLE = timedelta(minutes=15)
_COLUMNS = ["task_id", "hour", "account_id", "action", "outcome", "error_code", "count"]


def hour_of(when: datetime) -> int:
    """Hours since 1970 of the hour ``when`` falls in."""
    return int(when.timestamp()) // HOUR_SECONDS


def instant(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * HOUR_SECONDS, UTC)


def closed_before(now: datetime) -> int:
    """The first hour that is not closed at ``now``: every earlier one can be rolled up."""
    return hour_of(now - SETTLE)


async def roll_up(session: AsyncSession, task: InviteTask, now: datetime) -> int:
    """Roll up the task's closed hours after its newest rolled-up hour; returns the first open hour."""
    closed = closed_before(now)
    newest = await session.scalar(
        select(func.max(TaskStatsHour.hour)).where(TaskStatsHour.task_id == task.id)
    )
    # The first roll-up reads the task's whole log: its clock, not the row's created_at, dates the rows.
    first = 0 if newest is None else int(newest) + 1
    if first >= closed:
        return closed
    grouped = grouped_log(task.user_id, task.id, instant(first), instant(closed)).subquery()
    hour, account, action, outcome, code, count = grouped.c
    task_id = literal(task.id, TaskStatsHour.task_id.type)
    counted = select(
        task_id, hour, func.coalesce(account, NONE), action, outcome, func.coalesce(code, NONE), count
    )
    # A row of count 0 for the last closed hour marks how far the rollup got, so an idle task's hours
    # are not read again; in the same statement as the counts, so a mark never stands without them.
    none = literal(NONE)
    mark = select(task_id, literal(closed - 1), none, none, none, none, literal(0))
    both = union_all(counted, mark).subquery()
    # The WHERE: SQLite reads "SELECT … FROM t ON CONFLICT" as a join's ON without one.
    rows = select(*both.c).where(true())
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(TaskStatsHour).from_select(_COLUMNS, rows).on_conflict_do_nothing()
    await session.execute(stmt)
    return closed


def _rolled(task_id: uuid.UUID, first: int, end: int) -> ActivitySelect:
    return select(
        TaskStatsHour.hour,
        func.nullif(TaskStatsHour.account_id, NONE),
        TaskStatsHour.action,
        TaskStatsHour.outcome,
        func.nullif(TaskStatsHour.error_code, NONE),
        TaskStatsHour.count,
    ).where(
        TaskStatsHour.task_id == task_id,
        TaskStatsHour.hour >= first,
        TaskStatsHour.hour < end,
        TaskStatsHour.count > 0,  # not the marks
    )


def _calls(task: InviteTask, start: datetime, end: datetime, closed: int) -> ActivitySelect:
    """``[start, end)``'s calls by hour, account, action, outcome and error code: the rollup where the hours
    are closed and whole, the log elsewhere (rows may be split differently from the log's: sum them)."""
    first = -(-int(start.timestamp()) // HOUR_SECONDS)  # the first whole hour of the range
    last = min(hour_of(end), closed)  # the end of whole closed hours
    if first >= last:
        return grouped_log(task.user_id, task.id, start, end)
    parts: list[ActivitySelect] = [_rolled(task.id, first, last)]
    if start < instant(first):
        parts.append(grouped_log(task.user_id, task.id, start, instant(first)))
    if instant(last) < end:
        parts.append(grouped_log(task.user_id, task.id, instant(last), end))
    if len(parts) == 1:
        return parts[0]
    return typing.cast(ActivitySelect, select(*union_all(*parts).subquery().c))


async def activity(
    session: AsyncSession, task: InviteTask, start: datetime, end: datetime, now: datetime
) -> list[ActivityRow]:
    """What ``repository.activity`` answers for ``[start, end)``, rows perhaps split differently."""
    closed = await roll_up(session, task, now)
    return activity_rows(await session.execute(_calls(task, start, end, closed)))


@dataclass
class Totals:
    """The stats' sums: per hour and outcome, per account and outcome, per action, per error code."""

    by_hour: dict[int, dict[str, int]] = field(default_factory=dict)
    by_account: dict[str, dict[str, int]] = field(default_factory=dict)
    by_action: dict[str, int] = field(default_factory=dict)
    by_error: dict[str, int] = field(default_factory=dict)


async def totals(
    session: AsyncSession, task: InviteTask, start: datetime, end: datetime, now: datetime
) -> Totals:
    """The range's sums, added up in the database: a row per hour and outcome, account and outcome, action
    and error code (a few hundred), not one per hour, account, action, outcome and error code."""
    closed = await roll_up(session, task, now)
    calls = _calls(task, start, end, closed).cte("calls")
    hour, account, action, outcome, code, n = calls.c
    text_null, hour_null = cast(null(), String()), cast(null(), BigInteger())
    total = func.sum(n)
    stmt = union_all(
        select(literal("h"), text_null, hour, outcome, total).group_by(hour, outcome),
        select(literal("a"), account, hour_null, outcome, total)
        .where(account.is_not(None), account != NONE)
        .group_by(account, outcome),
        select(literal("c"), action, hour_null, text_null, total).group_by(action),
        select(literal("e"), code, hour_null, text_null, total)
        .where(code.is_not(None), code != NONE)
        .group_by(code),
    )
    out = Totals()
    for kind, key, at_hour, by, count in await session.execute(stmt):
        if kind == "h":
            out.by_hour.setdefault(int(at_hour), {})[by] = int(count)
        elif kind == "a":
            out.by_account.setdefault(key, {})[by] = int(count)
        elif kind == "c":
            out.by_action[key] = int(count)
        else:
            out.by_error[key] = int(count)
    return out
