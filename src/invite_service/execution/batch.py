"""The execution engine's sending half: ``process_batch`` (DESIGN §5).

One sender per account at a time, across tasks (the account lock). For each target:
re-check the task and lane; check pacing (from the ledger) and the suppression list; take
the account's limits and mark the target ``sending`` in one commit; call the platform;
record the outcome, counters, log and lane state in one transaction; publish progress.
A crash anywhere leaves the caps over-counted, never under-counted.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.adapters.base import InvitePlatformAdapter, InviteResult, Outcome, TargetRef
from invite_service.execution import repository as repo
from invite_service.execution.control import pause_task, publish_status
from invite_service.execution.jobspec import dispatch_job
from invite_service.execution.limits import min_delay, windows_for
from invite_service.execution.policy import Effect, breaker_tripped, effect_of, step_for
from invite_service.invite_tasks.template import render
from invite_service.kit.locks import LockNotAcquired
from invite_service.kit.rate_limit.base import Decision
from invite_service.models import InviteTarget, InviteTask
from invite_service.models.enums import LaneStatus, Priority, TargetKind, TargetStatus, TaskAction, TaskStatus
from invite_service.runtime import Runtime
from invite_service.suppressions import repository as suppressions
from invite_service.suppressions.service import is_suppressed
from invite_service.workers.enqueue import defer

log = structlog.get_logger(__name__)
RESERVED, SENDING = TargetStatus.RESERVED.value, TargetStatus.SENDING.value
SENT_STATUSES = {TargetStatus.INVITED, TargetStatus.MESSAGED, TargetStatus.ALREADY_MEMBER}
MAX_INLINE_WAIT = 60.0  # a re-dispatch sooner than this rides a short broker countdown
YIELD_SECONDS = 1.0  # a batch that gave way to a higher-priority task looks again after this


class Next(Enum):
    CONTINUE = "continue"
    STOP = "stop"
    AGAIN = "again"  # same target, next step (invite_or_message falling back to a message)


async def process_batch(
    rt: Runtime, task_id: str | uuid.UUID, account_id: str, target_ids: Sequence[int]
) -> None:
    tid = uuid.UUID(str(task_id))
    try:
        async with rt.locks.lock(f"account:{account_id}", ttl=60, wait=rt.settings.account_lock_wait_seconds):
            await _run_batch(rt, tid, account_id, list(target_ids))
    except LockNotAcquired:
        async with rt.db.session() as s:  # the account is busy elsewhere: give the targets back
            await repo.release(s, tid, target_ids)
    await _redispatch(rt, tid, account_id)


async def _run_batch(rt: Runtime, task_id: uuid.UUID, account_id: str, ids: list[int]) -> None:
    async with rt.db.session() as s:
        task = await repo.task(s, task_id)
        if task is None:
            return
        if await repo.higher_priority_waiting(s, task.priority):
            # Queues are consumed round-robin; yielding here makes higher-priority batches go first
            # on a shared worker. This batch's targets go back and the task is looked at again soon.
            await repo.release(s, task_id, ids)
            lane = await repo.lane(s, task_id, account_id)
            if lane is not None:
                lane.next_action_at = rt.clock.now() + timedelta(seconds=YIELD_SECONDS)
            return
        targets = await repo.targets_by_ids(s, task_id, ids)
    mine = [t for t in targets if t.status == RESERVED and t.account_id == account_id]
    left = [t.id for t in mine]
    adapter = rt.adapters.get(task.platform)
    try:
        for target in mine:
            step = step_for(TaskAction(task.action), target.error_code)
            outcome = await _send_one(rt, adapter, task, target, account_id, step)
            if outcome is Next.AGAIN:
                outcome = await _send_one(rt, adapter, task, target, account_id, "message")
            left.remove(target.id)
            if outcome is Next.STOP:
                break
    finally:
        if left:
            async with rt.db.session() as s:
                await repo.release(s, task_id, left)


async def _redispatch(rt: Runtime, task_id: uuid.UUID, account_id: str) -> None:
    """After a batch, look at the task again as soon as its lane may act."""
    async with rt.db.session() as s:
        task = await repo.task(s, task_id)
        if task is None or task.status != TaskStatus.RUNNING.value:
            return
        now = rt.clock.now()
        lane = await repo.lane(s, task_id, account_id)
        wait = 0.0
        if lane is not None and lane.next_action_at is not None:
            wait = max(0.0, (lane.next_action_at - now).total_seconds())
        if wait <= MAX_INLINE_WAIT:
            defer(s, dispatch_job(task_id, Priority(task.priority), countdown=wait))
        elif lane is not None:  # a long wait: the ticker wakes the task when it is due
            await repo.set_next_run(s, task_id, lane.next_action_at)


def _ref(target: InviteTarget) -> TargetRef:
    return TargetRef(
        kind=TargetKind(target.kind),
        key=target.key,
        username=target.username,
        platform_user_id=target.platform_user_id,
        phone=target.phone,
        first_name=target.first_name,
        last_name=target.last_name,
    )


def _fields(target: InviteTarget) -> dict[str, Any]:
    return {
        **target.extra,
        "first_name": target.first_name,
        "last_name": target.last_name,
        "username": target.username,
    }


async def _gate(
    rt: Runtime, s: AsyncSession, task: InviteTask, target: InviteTarget, account_id: str, now: datetime
) -> Next | None:
    """Checks before taking a slot: task running, lane active, pacing, suppression."""
    if await repo.task_status(s, task.id) != TaskStatus.RUNNING.value:
        return Next.STOP
    lane = await repo.lane(s, task.id, account_id)
    if lane is None or lane.status != LaneStatus.ACTIVE.value:
        return Next.STOP
    delay = min_delay(rt.settings.caps_for(task.platform), task.settings)
    last = await repo.last_action_at(s, account_id)
    if last is not None and delay > 0 and last + timedelta(seconds=delay) > now:
        lane.next_action_at = last + timedelta(seconds=delay)
        return Next.STOP
    if await is_suppressed(
        s,
        task.user_id,
        task.platform,
        username=target.username,
        platform_user_id=target.platform_user_id,
        phone=target.phone,
    ):
        await repo.finish_target(
            s,
            task.id,
            target.id,
            RESERVED,
            TargetStatus.SKIPPED.value,
            error_code="suppressed",
            processed_at=now,
            lease_until=None,
        )
        await repo.log(
            s,
            task_id=task.id,
            user_id=task.user_id,
            target_id=target.id,
            account_id=account_id,
            action="check",
            outcome="suppressed",
            error_code="suppressed",
            at=now,
        )
        await publish_status(s, rt, task)
        return Next.CONTINUE
    return None


async def _send_one(
    rt: Runtime,
    adapter: InvitePlatformAdapter,
    task: InviteTask,
    target: InviteTarget,
    account_id: str,
    step: str,
) -> Next:
    now = rt.clock.now()
    async with rt.db.session() as s:
        gated = await _gate(rt, s, task, target, account_id, now)
    if gated is not None:
        return gated

    windows = windows_for(rt.settings.caps_for(task.platform), task.settings, step)
    lease_until = repo.lease(now, rt.settings.send_lease_seconds)
    async with (
        rt.db.sessionmaker() as s,
        rt.limiter.acquire(s, account_id, step, windows, now, task_id=task.id, target_id=target.id) as grant,
    ):
        marked = grant.granted and await repo.mark_sending(s, task.id, target.id, lease_until)
        if marked:
            await s.commit()  # the ledger row and "sending" become visible together
        else:
            await s.rollback()  # a denied slot, or the task stopped meanwhile: nothing taken
    if not grant.granted:
        await _limited(rt, task, target, account_id, grant)
        return Next.STOP
    if not marked:
        return Next.STOP

    started = time.perf_counter()
    result = await _call(adapter, task, target, account_id, step)
    duration_ms = int((time.perf_counter() - started) * 1000)
    uncertain = False
    if result.outcome is Outcome.TRANSIENT and result.delivery_uncertain:
        result, uncertain = await _resolve_uncertain(adapter, task, target, account_id, step, result)
    return await _record(rt, task, target, account_id, step, result, grant, uncertain, duration_ms)


async def _call(
    adapter: InvitePlatformAdapter, task: InviteTask, target: InviteTarget, account_id: str, step: str
) -> InviteResult:
    try:
        if step == "invite":
            return await adapter.send_invite(account_id, task.destination or "", _ref(target))
        text = render(task.message_template or "", _fields(target))
        return await adapter.send_message(account_id, _ref(target), text)
    except Exception as exc:
        log.exception("adapter_call_failed", task_id=str(task.id), step=step)
        return InviteResult(
            Outcome.TRANSIENT, error_code="ADAPTER_ERROR", detail=type(exc).__name__, delivery_uncertain=True
        )


async def _resolve_uncertain(
    adapter: InvitePlatformAdapter,
    task: InviteTask,
    target: InviteTarget,
    account_id: str,
    step: str,
    result: InviteResult,
) -> tuple[InviteResult, bool]:
    """The call may have worked: ask the platform where it can tell, never re-send blindly."""
    if step == "invite" and adapter.supports_membership_check:
        member = await adapter.check_membership(account_id, task.destination or "", _ref(target))
        if member is True:
            return InviteResult(Outcome.SUCCESS, detail="confirmed by a membership check"), False
        if member is False:  # provably not done: safe to try again
            return InviteResult(Outcome.TRANSIENT, error_code=result.error_code, detail=result.detail), False
    return result, True


async def _limited(
    rt: Runtime, task: InviteTask, target: InviteTarget, account_id: str, grant: Decision
) -> None:
    retry_at = grant.retry_at or rt.clock.now() + timedelta(seconds=60)
    async with rt.db.session() as s:
        await repo.release(s, task.id, [target.id], next_attempt_at=retry_at)
        lane = await repo.lane(s, task.id, account_id)
        if lane is not None:
            lane.next_action_at = retry_at
            if grant.reason and grant.reason != "rate_limited":
                lane.last_error = grant.reason


async def _record(
    rt: Runtime,
    task: InviteTask,
    target: InviteTarget,
    account_id: str,
    step: str,
    result: InviteResult,
    grant: Decision,
    uncertain: bool,
    duration_ms: int,
) -> Next:
    now = rt.clock.now()
    async with rt.db.session() as s:
        if not result.charged:
            await rt.limiter.refund(s, grant)
        if uncertain:
            effect = Effect(TargetStatus.UNKNOWN, count_as_failure=True)
        else:
            effect = effect_of(
                result,
                action=TaskAction(task.action),
                step=step,
                attempts=target.attempts,
                max_attempts=int(task.settings.get("max_attempts", 3)),
                previous_error=target.error_code,
                now=now,
                tuning=rt.tuning,
            )
        await repo.log(
            s,
            task_id=task.id,
            user_id=task.user_id,
            target_id=target.id,
            account_id=account_id,
            action=step,
            outcome=result.outcome.value if not uncertain else "unknown",
            error_code=result.error_code,
            detail=(result.detail or "")[:500] or None,
            duration_ms=duration_ms,
            at=now,
        )
        await _update_lane(rt, s, task, account_id, result, effect, now)
        if effect.fallback_to_message:
            await repo.finish_target(
                s,
                task.id,
                target.id,
                SENDING,
                RESERVED,
                error_code=result.error_code,
                error_detail=result.detail,
            )
            target.error_code = result.error_code
            return Next.AGAIN
        final = effect.target_status not in (TargetStatus.PENDING, TargetStatus.SENDING)
        values: dict[str, Any] = {
            "attempts": target.attempts + (1 if effect.charge_attempt else 0),
            # A message sent in place of a refused invite keeps the refusal as its reason.
            "error_code": result.error_code
            or (target.error_code if effect.target_status is TargetStatus.MESSAGED else None),
            "error_detail": (result.detail or "")[:500] or None,
            "lease_until": None,
            "next_attempt_at": effect.next_attempt_at,
            "processed_at": now if final else None,
        }
        if not final:
            values["account_id"] = None
        await repo.finish_target(s, task.id, target.id, SENDING, effect.target_status.value, **values)
        if result.suggest_suppression is not None:
            await _suppress(s, task, target, result)
        if effect.pause_reason:
            await pause_task(s, rt, task, effect.pause_reason, now)
        await publish_status(s, rt, task)
    return Next.STOP if effect.stop_batch else Next.CONTINUE


async def _suppress(s: AsyncSession, task: InviteTask, target: InviteTarget, result: InviteResult) -> None:
    """The platform says this person blocked us: never contact them again from any task."""
    identities = [
        (TargetKind.USER_ID, target.platform_user_id),
        (TargetKind.USERNAME, target.username),
        (TargetKind.PHONE, target.phone),
    ]
    rows = [
        {
            "user_id": task.user_id,
            "platform": task.platform,
            "kind": kind.value,
            "key": key,
            "reason": str(result.suggest_suppression),
            "source": "platform",
            "note": result.error_code,
        }
        for kind, key in identities
        if key
    ]
    await suppressions.insert_many(s, rows)


async def _update_lane(
    rt: Runtime,
    s: AsyncSession,
    task: InviteTask,
    account_id: str,
    result: InviteResult,
    effect: Effect,
    now: datetime,
) -> None:
    lane = await repo.lane(s, task.id, account_id)
    if lane is None:
        return
    delay = min_delay(rt.settings.caps_for(task.platform), task.settings)
    lane.last_used_at = now
    lane.next_action_at = now + timedelta(seconds=delay)
    if effect.target_status in SENT_STATUSES:
        lane.sent += 1
    if effect.count_as_failure:
        lane.failed += 1
        lane.last_error = result.error_code
    if effect.lane_status is None:
        return
    if effect.account_wide:
        touched = await repo.restrict_account(
            s, account_id, effect.lane_status.value, effect.lane_cooldown_until, now, result.error_code
        )
        if effect.lane_status is LaneStatus.RESTRICTED:
            for task_id in touched:
                await _check_breaker(rt, s, task_id, now, result.error_code)
        return
    lane.status = effect.lane_status.value
    lane.cooldown_until = effect.lane_cooldown_until
    await s.flush()
    if effect.lane_status is LaneStatus.EXCLUDED:
        lanes = await repo.lanes(s, task.id)
        if not any(
            other.status
            in (LaneStatus.ACTIVE.value, LaneStatus.COOLING_DOWN.value, LaneStatus.RESTRICTED.value)
            for other in lanes
        ):
            await pause_task(
                s, rt, task, f"No account can work on this task any more (last: {result.error_code}).", now
            )


async def _check_breaker(
    rt: Runtime, s: AsyncSession, task_id: uuid.UUID, now: datetime, code: str | None
) -> None:
    task = await repo.task(s, task_id)
    if task is None or task.status != TaskStatus.RUNNING.value:
        return
    breaker = task.settings.get("breaker") or {}
    window = timedelta(minutes=float(breaker.get("window_minutes", 60)))
    recent, total = await repo.restricted_lanes_since(s, task_id, now - window)
    if breaker_tripped(
        recent,
        total,
        lanes=int(breaker.get("restricted_lanes", 2)),
        share=float(breaker.get("restricted_share", 1 / 3)),
    ):
        reason = (
            f"Circuit breaker: {recent} of {total} accounts were restricted by the platform "
            f"within {int(window.total_seconds() // 60)} min (last: {code}). Review before resuming."
        )
        await pause_task(s, rt, task, reason, now)


async def resolve_expired_sending(rt: Runtime, now: datetime) -> dict[str, int]:
    """Targets stuck in ``sending`` past their lease: a membership check decides, else ``unknown``."""
    counts = {"confirmed": 0, "retried": 0, "unknown": 0}
    async with rt.db.session() as s:
        stuck = await repo.expired(s, SENDING, now)
        tasks = {t.task_id: await repo.task(s, t.task_id) for t in stuck}
    for target in stuck:
        task = tasks.get(target.task_id)
        if task is None:
            continue
        step = step_for(TaskAction(task.action), target.error_code)
        adapter = rt.adapters.get(task.platform)
        member = None
        if step == "invite" and adapter.supports_membership_check and target.account_id:
            member = await adapter.check_membership(target.account_id, task.destination or "", _ref(target))
        async with rt.db.session() as s:
            if member is True:
                moved = await repo.finish_target(
                    s,
                    task.id,
                    target.id,
                    SENDING,
                    TargetStatus.INVITED.value,
                    processed_at=now,
                    lease_until=None,
                    error_detail="confirmed by a membership check",
                )
                counts["confirmed"] += moved
            elif member is False:
                moved = await repo.finish_target(
                    s,
                    task.id,
                    target.id,
                    SENDING,
                    TargetStatus.PENDING.value,
                    lease_until=None,
                    account_id=None,
                )
                counts["retried"] += moved
            else:
                moved = await repo.finish_target(
                    s,
                    task.id,
                    target.id,
                    SENDING,
                    TargetStatus.UNKNOWN.value,
                    processed_at=now,
                    lease_until=None,
                    error_code="DELIVERY_UNKNOWN",
                )
                counts["unknown"] += moved
            if moved:
                await repo.log(
                    s,
                    task_id=task.id,
                    user_id=task.user_id,
                    target_id=target.id,
                    account_id=target.account_id,
                    action=step,
                    outcome="recovered",
                    error_code=None if member else "DELIVERY_UNKNOWN",
                    at=now,
                )
                await repo.set_next_run(s, task.id, now)
                await publish_status(s, rt, task)
    return counts
