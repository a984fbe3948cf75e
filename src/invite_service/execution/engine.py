"""The execution engine's scheduling half: tick, dispatch, recover (DESIGN §5).

Due times live in the database (``invite_tasks.next_run_at``, lanes' ``next_action_at`` and
``cooldown_until``, targets' ``next_attempt_at``); the ticker enqueues ``dispatch`` for what is
due, and dispatch reserves targets per lane and enqueues ``process_batch`` (``batch.py``).
Jobs take ids and are idempotent: running one twice does no harm.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.context.jobs import defer
from invite_service.context.runtime import Runtime
from invite_service.execution.control import complete_task, pause_task, start_scheduled
from invite_service.execution.jobspec import batch_job, dispatch_job
from invite_service.execution.policy import (
    HANDED_TO_PREMIUM,
    LANE_USABLE,
    premium_lane_waiting,
    send_window,
    stranded,
    stranded_reason,
    task_settings,
)
from invite_service.execution.recovery import resolve_expired_sending
from invite_service.limits.caps import min_delay, windows_for
from invite_service.models import InviteTask, Lane
from invite_service.models.enums import LaneStatus, TargetStatus, TaskAction, TaskStatus, first_step
from invite_service.stores import in_flight, schedule
from invite_service.stores import targets as target_store
from invite_service.stores import tasks as task_store
from invite_service.stores.waiting import LANE_WAIT_CAP, park

log = structlog.get_logger(__name__)
# After enqueuing a dispatch the ticker leaves the task alone this long; dispatch sets the real time.
CLAIM_SECONDS = 30
SAFETY_RECHECK_SECONDS = 30
# Due tasks claimed per statement (and per commit, so the first dispatches start while the tick goes on).
TICK_PAGE = 500


async def tick(rt: Runtime) -> int:
    """Start scheduled tasks whose time has come and enqueue dispatch for every due task; returns how many.

    Set-based: each page of up to ``TICK_PAGE`` due tasks is claimed by one UPDATE and committed with its
    dispatch jobs (published at that commit), and the tick pages on until none is left, so a thousand due
    tasks take one tick. It ends: a claimed task's next run moves past ``now``, and a claimed scheduled
    task is started under the claim's row lock (it runs, so it is no longer due).
    """
    now = rt.clock.now()
    claim_until = now + timedelta(seconds=CLAIM_SECONDS)
    claimed, first = 0, True
    while True:
        async with rt.db.session() as session:
            if first:
                await schedule.reactivate_lanes(session, now)
            due = await schedule.claim_due(session, now, claim_until, TICK_PAGE)
            for task_id, status, priority in due:
                if status is TaskStatus.SCHEDULED:
                    await start_scheduled(session, rt, task_id, now)
                    # Starting set its next run to now; put the claim back, as for every claimed task.
                    await task_store.set_next_run(session, task_id, claim_until)
                defer(session, dispatch_job(task_id, priority))
        claimed, first = claimed + len(due), False
        if len(due) < TICK_PAGE:
            return claimed


async def dispatch(rt: Runtime, task_id: str | uuid.UUID) -> None:
    """Reserve targets for every ready lane of a running task and enqueue their batches."""
    tid = uuid.UUID(str(task_id))
    structlog.contextvars.bind_contextvars(task_id=str(tid))  # every log line of this job names its task
    async with rt.locks.try_lock(f"dispatch:{tid}", ttl=60) as held:
        if held is None:  # another dispatcher is on it; make sure the ticker looks again soon
            async with rt.db.session() as session:
                await task_store.set_next_run(session, tid, rt.clock.now())
            return
        async with rt.db.session() as session:
            # Lock order everywhere: the task row before its targets (a cancel does the same).
            task = await task_store.task(session, tid, for_update=True)
            if task is None or task.status is not TaskStatus.RUNNING:
                return
            await _dispatch(session, rt, task)


async def _dispatch(session: AsyncSession, rt: Runtime, task: InviteTask) -> None:
    now = rt.clock.now()
    await schedule.reactivate_lanes(session, now, task.id)
    counters = await task_store.counters(session, task.id)
    if counters is not None and counters.pending + counters.reserved + counters.sending == 0:
        await complete_task(session, rt, task, now)
        return
    window = send_window(task_settings(task))
    if window is not None and not window.is_open(now):
        await task_store.set_next_run(session, task.id, window.next_open(now))
        return
    lanes = await task_store.lanes(session, task.id)
    usable = [lane for lane in lanes if lane.status in LANE_USABLE]
    if not usable:
        if stranded(lane.status for lane in lanes):
            await pause_task(session, rt, task, stranded_reason(_lane_summary(lanes)), now)
            return
        waiting = [lane.cooldown_until for lane in lanes if lane.status is LaneStatus.RESTRICTED]
        await task_store.set_next_run(session, task.id, min(w for w in waiting if w is not None))
        return

    skip_handed = await _premium_handoffs(session, rt, task, lanes, now)
    caps = rt.settings.caps_for(task.platform)
    delay = min_delay(caps, task_settings(task))
    step = first_step(task.action)
    windows = windows_for(caps, task_settings(task), step)
    busy = await task_store.busy_accounts(session, task.id)
    wakes: list[datetime] = []
    reserved_any = False
    for lane in usable:
        if lane.status is not LaneStatus.ACTIVE:
            if lane.cooldown_until:
                wakes.append(lane.cooldown_until)
            continue
        if lane.account_id in busy:
            reserved_any = True  # its batch will call dispatch again when done
            continue
        if lane.next_action_at and lane.next_action_at > now:
            wakes.append(lane.next_action_at)
            continue
        usage = await rt.limiter.usage(session, lane.account_id, step, windows, now)
        full = [u for u in usage if u.remaining <= 0]
        if full:
            resets = [(u.resets_at, u.seconds) for u in full if u.resets_at is not None]
            if resets:
                until, seconds = max(resets)
                park(lane, until, LANE_WAIT_CAP, seconds)  # the API tells a full cap from pacing
                wakes.append(until)
            continue
        room = min((u.remaining for u in usage), default=rt.settings.batch_size)
        size = 1 if delay > 0 else max(1, min(rt.settings.batch_size, room))
        ids = await in_flight.reserve(
            session,
            task.id,
            lane.account_id,
            size,
            now,
            now + timedelta(seconds=rt.settings.reservation_lease_seconds),
            skip_error_code=None if lane.is_premium else skip_handed,
        )
        if not ids:
            break  # nothing due for anyone right now
        reserved_any = True
        defer(session, batch_job(task.id, lane.account_id, ids, task.priority))
    pending_at = await in_flight.next_pending_at(session, task.id)
    if pending_at is not None:
        wakes.append(max(pending_at, now))
    if reserved_any:
        wakes.append(now + timedelta(seconds=SAFETY_RECHECK_SECONDS))
    await task_store.set_next_run(
        session, task.id, min(wakes) if wakes else now + timedelta(seconds=SAFETY_RECHECK_SECONDS)
    )


async def _premium_handoffs(
    session: AsyncSession, rt: Runtime, task: InviteTask, lanes: Sequence[Lane], now: datetime
) -> str | None:
    """Targets handed to a Premium lane wait for one; the code other lanes must leave (None: nothing to
    leave). With no Premium lane left that could act again, the hand-off ends: an ``invite`` task's targets
    fail with the refusal, an ``invite_or_message`` task's go back to it (the message may be sent instead)."""
    if not any(lane.is_premium for lane in lanes):
        return None  # nothing was ever handed in this task
    if premium_lane_waiting((lane.is_premium, lane.status) for lane in lanes):
        return HANDED_TO_PREMIUM
    refusal = rt.adapters.get(task.platform).rules.premium_retry_code
    fail = task.action is TaskAction.INVITE
    detail = "no Premium account of this task is left to retry the invite"
    await target_store.relabel_pending(
        session, task.id, HANDED_TO_PREMIUM, refusal, fail=fail, detail=detail, now=now
    )
    return None


def _lane_summary(lanes: Sequence[Lane]) -> str:
    parts = [f"{lane.account_id}: {lane.status}" for lane in lanes]
    return ", ".join(parts) or "the task has no accounts"


async def recover(rt: Runtime) -> dict[str, int]:
    """Expired reservations go back to the pool; expired sends become ``unknown`` unless a
    membership check proves what happened (never re-sent blindly)."""
    now = rt.clock.now()
    released = 0
    async with rt.db.session() as session:
        by_task: dict[uuid.UUID, list[int]] = {}
        for target in await in_flight.expired(session, TargetStatus.RESERVED, now):
            by_task.setdefault(target.task_id, []).append(target.id)
        for task_id, ids in by_task.items():
            await task_store.set_next_run(session, task_id, now)  # the task row first, then its targets
            released += len(await in_flight.release(session, task_id, ids))
    resolved = await resolve_expired_sending(rt, now)
    if released or resolved.total():
        log.info("recovered", released=released, **resolved)
    return {"released": released, **resolved}
