"""Recording what one platform call did: target, counters, log, lane, account-wide holds, breaker."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.adapters.base import InviteResult
from invite_service.context.runtime import Runtime
from invite_service.execution.control import pause_task, publish_status
from invite_service.execution.policy import MESSAGE_FALLBACK_CODES, Effect, Tuning, breaker_tripped, effect_of
from invite_service.kit.faults import Boundary
from invite_service.limits.base import Decision
from invite_service.limits.caps import min_delay
from invite_service.models import InviteTarget, InviteTask
from invite_service.models.enums import LaneStatus, TargetKind, TargetStatus, TaskAction, TaskStatus
from invite_service.observability import metrics
from invite_service.stores import engine as repo
from invite_service.stores import suppressions as suppressions

SENT_STATUSES = {TargetStatus.INVITED, TargetStatus.MESSAGED, TargetStatus.ALREADY_MEMBER}


async def record(
    rt: Runtime,
    task: InviteTask,
    target: InviteTarget,
    account_id: str,
    step: str,
    key: str | None,
    result: InviteResult,
    *,
    grant: Decision | None = None,
    unknown: bool = False,
    duration_ms: int | None = None,
    expired_at: datetime | None = None,
    via: str | None = None,
) -> Effect | None:
    """Record the outcome of the step sent under ``key`` in one transaction and return its effect
    (the batch reads ``stop_batch`` and ``fallback_to_message`` from it).

    Fenced: the target moves only while it is still ``sending`` under ``key`` (and, for recovery,
    while its lease has run out at ``expired_at``); otherwise nothing is written and None is returned —
    a newer attempt or another recovery owns the row. ``unknown``: nobody can tell what the platform
    did; the target waits for the user. ``via`` says how a recovered outcome was learnt (the log).
    """
    now = rt.clock.now()
    async with rt.db.session() as s:
        await repo.task(s, task.id, for_update=True)  # lock order: the task row before its targets
        effect = _effect(rt, task, target, step, result, unknown, now)
        moved = await repo.finish_sending(
            s,
            task.id,
            target.id,
            key,
            effect_status(effect).value,
            expired_at=expired_at,
            **_target_values(target, result, effect, now),
        )
        if not moved:
            return None
        if grant is not None and not result.charged:
            await rt.limiter.refund(s, grant)
        detail = (result.detail or "")[:500] or None
        await repo.log(
            s,
            task_id=task.id,
            user_id=task.user_id,
            target_id=target.id,
            account_id=account_id,
            action=step,
            outcome="unknown" if unknown else result.outcome.value,
            error_code=result.error_code,
            detail=f"{via}: {detail}" if via and detail else via or detail,
            duration_ms=duration_ms,
            at=now,
        )
        metrics.record_outcome(s, task.platform, step, result, unknown, duration_ms or 0)  # on commit
        await _update_lane(rt, s, task, account_id, result, effect, now)
        if effect.fallback_to_message:
            target.error_code = result.error_code
        if result.suggest_suppression is not None:
            await _suppress(s, task, target, result)
        if effect.pause_reason:
            await pause_task(s, rt, task, effect.pause_reason, now)
        await publish_status(s, rt, task)
        await rt.faults.hit(Boundary.BEFORE_RECORD_COMMIT, task_id=task.id, target_id=target.id)
    return effect


def _effect(
    rt: Runtime,
    task: InviteTask,
    target: InviteTarget,
    step: str,
    result: InviteResult,
    unknown: bool,
    now: datetime,
) -> Effect:
    if unknown:
        return Effect(TargetStatus.UNKNOWN, count_as_failure=True)
    return effect_of(
        result,
        action=TaskAction(task.action),
        step=step,
        attempts=target.attempts,
        max_attempts=int(task.settings.get("max_attempts", 3)),
        previous_error=target.error_code,
        now=now,
        tuning=Tuning.from_settings(rt.settings),
    )


def effect_status(effect: Effect) -> TargetStatus:
    """Where the target goes: the fallback message is sent by the same batch, from ``reserved``."""
    return TargetStatus.RESERVED if effect.fallback_to_message else effect.target_status


def _target_values(
    target: InviteTarget, result: InviteResult, effect: Effect, now: datetime
) -> dict[str, Any]:
    if effect.fallback_to_message:
        return {"error_code": result.error_code, "error_detail": result.detail}
    final = effect.target_status not in (TargetStatus.PENDING, TargetStatus.SENDING)
    values: dict[str, Any] = {
        "attempts": target.attempts + (1 if effect.charge_attempt else 0),
        # A message sent in place of a refused invite keeps the refusal as its reason (and only that:
        # a message that got through on a retry is not marked with the retry's cause).
        "error_code": result.error_code
        or (
            target.error_code
            if effect.target_status is TargetStatus.MESSAGED and target.error_code in MESSAGE_FALLBACK_CODES
            else None
        ),
        "error_detail": (result.detail or "")[:500] or None,
        "lease_until": None,
        "next_attempt_at": effect.next_attempt_at,
        "processed_at": now if final else None,
    }
    if not final:
        values["account_id"] = None
        if result.charged and not result.delivery_uncertain:
            # The platform answered without acting (a wait, a refusal): the next try is a new
            # operation. After an unanswered call the lineage stays, so the retry reuses the key.
            values["lineage"] = target.lineage + 1
    return values


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
