"""Statistics use cases: a task's status with its ETA, its stats, its report summary, its log, and the
service-wide gauges Prometheus scrapes. Services take a session and never commit."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.context.runtime import Runtime
from invite_service.db import Database
from invite_service.errors import FieldError, InvalidInput
from invite_service.kit.pagination import SortSpec, split_page
from invite_service.limits.base import Window, WindowUsage
from invite_service.limits.caps import min_delay, windows_for
from invite_service.limits.window import SendWindow
from invite_service.models import InviteTask, Lane
from invite_service.models.enums import LaneStatus, Step, TaskStatus, first_step
from invite_service.models.task_settings import TaskSettings
from invite_service.observability.metrics import GaugeSnapshot
from invite_service.statistics import eta
from invite_service.statistics import hourly as hourly_rollup
from invite_service.statistics import repository as repo
from invite_service.statistics.schemas import (
    AccountStats,
    Basis,
    CapOut,
    ErrorCount,
    EstimateOut,
    HourlyPoint,
    LaneReport,
    LaneStateOut,
    LogOut,
    LogPage,
    ReportOut,
    SendWindowOut,
    StatsRange,
    TaskStatsOut,
    TaskStatusOut,
)
from invite_service.stores import tasks as task_store
from invite_service.stores.counters import Counters, counters_dict, progress_pct, replied_count
from invite_service.stores.waiting import lane_waiting, task_waiting

TERMINAL = frozenset({TaskStatus.COMPLETED, TaskStatus.CANCELLED, TaskStatus.FAILED})
HOUR = timedelta(hours=1)
DEFAULT_RANGE = timedelta(hours=24)
MAX_RANGE = timedelta(days=7)
# A running task whose next run is further away than this is waiting on purpose (window, cooldown, caps).
DUE_SLACK = timedelta(seconds=60)
_BASIS: dict[str, Basis] = {TaskStatus.RUNNING: "running", TaskStatus.SCHEDULED: "scheduled"}


def step_of(task: InviteTask) -> Step:
    """The call the task's targets need first (the fallback message of invite_or_message aside)."""
    return first_step(task.action)


def _lane_start(lane: Lane, now: datetime) -> datetime | None:
    """When the lane may act again for this task, as the engine will see it; None: never by itself."""
    if lane.status in (LaneStatus.UNAVAILABLE, LaneStatus.EXCLUDED):
        return None
    if lane.status == LaneStatus.RESTRICTED and lane.cooldown_until is None:
        return None
    start = now
    for when in (lane.cooldown_until, lane.next_action_at):
        if when is not None and when > start:
            start = when
    return start


def _usage(window: Window, blocks: list[repo.LedgerBlock]) -> WindowUsage:
    """A window's state as the limiter reports it (exact: the blocks hold exact counts and edges)."""
    used = sum(b.count for b in blocks)
    resets_at = blocks[0].first + window.duration if blocks else None
    return WindowUsage(window.seconds, used, window.limit, max(0, window.limit - used), resets_at)


def _available_at(start: datetime | None, usage: list[WindowUsage]) -> datetime | None:
    """The lane's start, pushed past any cap window that is full right now."""
    if start is None:
        return None
    for u in usage:
        if u.remaining <= 0 and u.resets_at is not None and u.resets_at > start:
            start = u.resets_at
    return start


def _full_window(usage: list[WindowUsage], now: datetime) -> tuple[int, datetime] | None:
    """The cap window that keeps the account idle longest right now, from the ledger (None: none full)."""
    full = [(u.resets_at, u.seconds) for u in usage if u.remaining <= 0 and u.resets_at and u.resets_at > now]
    if not full:
        return None
    until, seconds = max(full)
    return seconds, until


# A page of tasks asks each task's status at once, and the tasks share their accounts: the ledger blocks
# one status read serve the others for this long (by the runtime's clock), so the first status of the next
# task costs no ledger read. The estimate built from them is itself kept 10 s (``Runtime.estimates``).
LEDGER_REUSE = timedelta(seconds=2)


async def _ledger(
    session: AsyncSession, rt: Runtime, accounts: list[str], step: Step, windows: list[Window], now: datetime
) -> list[dict[str, list[repo.LedgerBlock]]]:
    """Each cap window's calls per account, by every task: the ledger, the limiter's source of truth.

    The ledger is per account, not per task: what another status read for an account within
    ``LEDGER_REUSE`` is reused (cut to each window at ``now``); only the other accounts are read."""
    shape = (str(step), tuple(w.seconds for w in windows))
    out: list[dict[str, list[repo.LedgerBlock]]] = [{} for _ in windows]
    missing: list[str] = []
    for account in accounts:
        hit: tuple[datetime, list[list[repo.LedgerBlock]]] | None = rt.estimates.get(
            ("ledger", account, shape)
        )
        if hit is None or not timedelta(0) <= now - hit[0] <= LEDGER_REUSE:
            missing.append(account)
            continue
        for by_account, window, held in zip(out, windows, hit[1], strict=True):
            by_account[account] = [b for b in held if b.last > now - window.duration]
    if not missing:
        return out
    fresh = [
        await repo.ledger_blocks(session, missing, step, now - w.duration, int(eta.grain_seconds(w)))
        for w in windows
    ]
    for account in missing:
        mine = [by_account.get(account, []) for by_account in fresh]
        rt.estimates.put(("ledger", account, shape), (now, mine))
        for by_account, held in zip(out, mine, strict=True):
            by_account[account] = held
    return out


@dataclass(frozen=True)
class _Plan:
    """What the status needs from the lanes' ledger: each lane's window usage and the estimate."""

    usage: dict[str, list[WindowUsage]]
    starts: dict[str, datetime | None]
    estimate: eta.Estimate
    step: Step
    windows: list[Window]


async def _plan(
    session: AsyncSession, rt: Runtime, task: InviteTask, lanes: list[Lane], remaining: int
) -> _Plan:
    key = (task.id, task.version)
    cached: _Plan | None = rt.estimates.get(key)
    if cached is not None:
        return cached
    now = rt.clock.now()
    begin = now
    if task.status == TaskStatus.SCHEDULED and task.scheduled_at is not None:
        begin = max(now, task.scheduled_at)
    caps = rt.settings.caps_for(task.platform)
    step = step_of(task)
    settings = TaskSettings.model_validate(task.settings)
    windows = windows_for(caps, settings, step)
    delay = min_delay(caps, settings)
    accounts = [lane.account_id for lane in lanes]
    shares = await repo.running_tasks_per_account(session, accounts, task.id)
    blocks = await _ledger(session, rt, accounts, step, windows, now)
    usage: dict[str, list[WindowUsage]] = {}
    starts: dict[str, datetime | None] = {}
    capacities: list[eta.LaneCapacity] = []
    for lane in lanes:
        mine = [by_account.get(lane.account_id, []) for by_account in blocks]
        usage[lane.account_id] = [_usage(w, b) for w, b in zip(windows, mine, strict=True)]
        starts[lane.account_id] = start = _lane_start(lane, begin)
        if start is not None:
            history = [(w, [(b.last, b.count) for b in bs]) for w, bs in zip(windows, mine, strict=True)]
            capacities.append(eta.lane_capacity(history, delay, start, 1 + shares.get(lane.account_id, 0)))
    window = SendWindow.from_settings(task.settings.get("send_window"))
    plan = _Plan(usage, starts, eta.estimate(remaining, capacities, window, begin), step, windows)
    rt.estimates.put(key, plan)
    return plan


async def task_status(session: AsyncSession, rt: Runtime, task: InviteTask) -> TaskStatusOut:
    now = rt.clock.now()
    row = await task_store.counters(session, task.id)
    counts = counters_dict(row)
    lanes = await task_store.lanes(session, task.id)
    remaining = counts["pending"] + counts["reserved"] + counts["sending"]
    plan = await _plan(session, rt, task, lanes, remaining)
    holds = [
        lane_waiting(lane, now, _full_window(plan.usage.get(lane.account_id, []), now)) for lane in lanes
    ]
    lanes_out = [
        LaneStateOut(
            account_id=lane.account_id,
            label=lane.label,
            status=lane.status,
            cooldown_until=lane.cooldown_until,
            next_action_at=lane.next_action_at,
            available_at=_available_at(plan.starts.get(lane.account_id), plan.usage.get(lane.account_id, [])),
            remaining_now=min((u.remaining for u in plan.usage.get(lane.account_id, [])), default=None),
            sent=lane.sent,
            failed=lane.failed,
            last_error=lane.last_error,
            waiting=hold,
        )
        for lane, hold in zip(lanes, holds, strict=True)
    ]
    window = SendWindow.from_settings(task.settings.get("send_window"))
    estimate: EstimateOut | None = None
    eta_at: datetime | None = None
    if task.status not in TERMINAL:
        found = plan.estimate
        eta_at = found.at
        estimate = EstimateOut(
            remaining=found.remaining,
            lanes=found.lanes,
            rate_per_hour=round(found.rate_per_hour, 2),
            basis=_BASIS.get(task.status, "if_started_now"),
            reason=found.reason,
            step=plan.step.value,
            caps=[CapOut(window_seconds=w.seconds, limit=w.limit) for w in plan.windows],
        )
    return TaskStatusOut(
        task_id=task.id,
        status=task.status,
        progress=progress_pct(counts),
        counters=Counters(**counts),
        pause_reason=task.pause_reason,
        started_at=task.started_at,
        finished_at=task.finished_at,
        eta=eta_at,
        estimate=estimate,
        send_window=None
        if window is None
        else SendWindowOut(open=window.is_open(now), next_open_at=window.next_open(now)),
        lanes=lanes_out,
        replied=replied_count(row),
        waiting=task_waiting(task, lanes, now, remaining, holds),
    )


def _floor_hour(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


async def stats_range(
    session: AsyncSession, task: InviteTask, now: datetime, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime]:
    """The hours the stats cover: by default the 24 hours up to the task's latest activity."""
    if end is None:
        last = await repo.last_activity_at(session, task.id)
        end = _floor_hour(min(last or now, now)) + HOUR
    if start is None:
        start = max(end - DEFAULT_RANGE, _floor_hour(task.created_at))
    if start >= end:
        raise InvalidInput(errors=[FieldError(("query", "from"), "must be before 'to'")])
    if end - start > MAX_RANGE:
        raise InvalidInput(errors=[FieldError(("query", "from"), "the range may span at most 7 days")])
    return start, end


async def task_stats(
    session: AsyncSession, task: InviteTask, now: datetime, start: datetime | None, end: datetime | None
) -> TaskStatsOut:
    start, end = await stats_range(session, task, now, start, end)
    sums = await hourly_rollup.totals(session, task, start, end, now)
    by_outcome: dict[str, int] = defaultdict(int)
    for counts in sums.by_hour.values():
        for outcome, n in counts.items():
            by_outcome[outcome] += n
    by_hour = {datetime.fromtimestamp(h * repo.HOUR_SECONDS, UTC): c for h, c in sums.by_hour.items()}
    by_error, by_action, by_account = sums.by_error, sums.by_action, sums.by_account
    outcomes = sorted(by_outcome)
    hourly: list[HourlyPoint] = []
    hour = _floor_hour(start)
    while hour < end:  # every hour of the range, zeros included, so a chart has no gaps
        counts = by_hour.get(hour, {})
        hourly.append(HourlyPoint(hour=hour, counts={o: counts.get(o, 0) for o in outcomes}))
        hour += HOUR
    lanes = await task_store.lanes(session, task.id)
    counter_row = await task_store.counters(session, task.id)
    counters = counters_dict(counter_row)
    return TaskStatsOut(
        task_id=task.id,
        status=task.status,
        targets=Counters(**counters),
        replied=replied_count(counter_row),
        range=StatsRange(start=start, end=end),
        by_outcome=dict(by_outcome),
        by_error_code=dict(sorted(by_error.items(), key=lambda kv: -kv[1])),
        by_action=dict(by_action),
        per_account=[
            AccountStats(
                account_id=lane.account_id,
                label=lane.label,
                status=lane.status,
                sent=lane.sent,
                failed=lane.failed,
                by_outcome=dict(by_account.get(lane.account_id, {})),
            )
            for lane in lanes
        ],
        hourly=hourly,
    )


async def task_report(session: AsyncSession, task: InviteTask, now: datetime) -> ReportOut:
    row = await task_store.counters(session, task.id)
    counts = counters_dict(row)
    lanes = await task_store.lanes(session, task.id)
    errors = await repo.unsuccessful_by_error(session, task.user_id, task.id)
    duration = None
    if task.started_at is not None:
        duration = ((task.finished_at or now) - task.started_at).total_seconds()
    return ReportOut(
        task_id=task.id,
        name=task.name,
        platform=task.platform,
        action=task.action,
        status=task.status,
        pause_reason=task.pause_reason,
        created_at=task.created_at,
        started_at=task.started_at,
        finished_at=task.finished_at,
        duration_seconds=duration,
        generated_at=now,
        counters=Counters(**counts),
        progress=progress_pct(counts),
        replied=replied_count(row),
        lanes=[
            LaneReport(
                account_id=lane.account_id,
                label=lane.label,
                status=lane.status,
                sent=lane.sent,
                failed=lane.failed,
                last_error=lane.last_error,
            )
            for lane in lanes
        ],
        errors=[
            ErrorCount(status=status, error_code=code, count=n)
            for status, code, n in sorted(errors, key=lambda e: -e[2])
        ],
    )


LOG_SORTS = ("at",)


async def task_logs(
    session: AsyncSession,
    task: InviteTask,
    filters: repo.LogFilters,
    sort: SortSpec,
    cursor: str | None,
    limit: int,
) -> LogPage:
    rows = await repo.logs_page(session, task.user_id, task.id, filters, sort, cursor, limit)
    items, next_cursor = split_page(rows, limit, sort, lambda log: (log.at, log.id))
    # Who: the target as the targets list shows it (its key) and the account's label, two reads a page.
    keys = await repo.target_keys(session, task.id, [log.target_id for log in items if log.target_id])
    labels = await repo.lane_labels(session, task.id) if items else {}
    out = [
        LogOut(
            id=log.id,
            at=log.at,
            target_id=log.target_id,
            account_id=log.account_id,
            action=log.action,
            outcome=log.outcome,
            error_code=log.error_code,
            detail=log.detail,
            duration_ms=log.duration_ms,
            target=keys.get(log.target_id) if log.target_id else None,
            account_label=labels.get(log.account_id) if log.account_id else None,
        )
        for log in items
    ]
    return LogPage(items=out, next_cursor=next_cursor)


async def gauges(db: Database, now: datetime) -> GaugeSnapshot:
    """The database's side of ``/metrics``: three small grouped queries over indexes."""
    async with db.session() as session:
        tasks = await repo.tasks_by_status(session)
        lanes = await repo.running_lanes_by_state(session)
        progress = await repo.due_running_tasks_progress(session, now + DUE_SLACK)
    idle = 0.0
    for started_at, last_at in progress:
        since = max((t for t in (started_at, last_at) if t is not None), default=None)
        if since is not None:
            idle = max(idle, (now - since).total_seconds())
    return GaugeSnapshot(tasks=tasks, lanes=lanes, max_idle_seconds=idle)
