"""Recording what one platform call did: target, counters, log, lane, account-wide holds, breaker."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.adapters.base import InviteResult, PlatformRules
from invite_service.audiences import policy as contact_policy
from invite_service.context.runtime import Runtime
from invite_service.execution.control import pause_task, publish_status
from invite_service.execution.policy import (
    REPEAT_PAUSE_AFTER,
    Effect,
    Tuning,
    breaker_reason,
    breaker_tripped,
    breaker_window,
    checks_breaker,
    effect_of,
    kept_error,
    last_lane_excluded_reason,
    premium_lane_waiting,
    repeated_refusal,
    repeated_refusal_reason,
    stranded,
    task_settings,
)
from invite_service.kit.faults import Boundary
from invite_service.kit.progress import defer_event
from invite_service.limits.base import Decision
from invite_service.limits.caps import min_delay
from invite_service.models import InviteTarget, InviteTask, Lane
from invite_service.models.enums import LaneStatus, Step, TargetKind, TargetStatus
from invite_service.models.notifications import NotificationEventType
from invite_service.notifications.service import emit
from invite_service.observability import metrics
from invite_service.stores import logs as log_store
from invite_service.stores import send_path
from invite_service.stores import suppressions as suppressions
from invite_service.stores import tasks as task_store
from invite_service.stores.counters import status_event


@dataclass(frozen=True)
class StepOutcome:
    """What became of one step sent under ``key``, as ``record`` writes it.

    ``grant``: the limiter's slot, refunded when the call provably never reached the platform.
    ``unknown``: nobody can tell what the platform did; the target waits for the user.
    ``expired_at``: recovery's fence (only while the lease had run out then).
    ``via``: how a recovered outcome was learnt (for the log).
    """

    account_id: str
    step: Step
    key: str | None
    result: InviteResult
    grant: Decision | None = None
    unknown: bool = False
    duration_ms: int | None = None
    expired_at: datetime | None = None
    via: str | None = None


async def record(rt: Runtime, task: InviteTask, target: InviteTarget, outcome: StepOutcome) -> Effect | None:
    """Record ``outcome`` in one transaction and return its effect (the batch reads ``stop_batch`` and
    ``fallback_to_message`` from it).

    Fenced: the target moves only while it is still ``sending`` under the outcome's key (and, for
    recovery, while its lease has run out at ``expired_at``); otherwise nothing is written and None is
    returned — a newer attempt or another recovery owns the row.
    """
    now = rt.clock.now()
    result = outcome.result
    rules = rt.adapters.get(task.platform).rules

    async def write(session: AsyncSession) -> Effect | None:
        # Lock order: the task row before its targets; the lane comes with it in the same statement. The
        # row is this session's: a pause must change it, not the caller's detached copy.
        locked, lane = await send_path.task_and_lane(session, task.id, outcome.account_id, for_update=True)
        current = locked if locked is not None else task
        premium_retry = await _premium_retry(session, task, outcome, rules)
        effect = _effect(rt, task, target, outcome, rules, now, premium_retry)
        detail = (result.detail or "")[:500] or None
        via = outcome.via
        log = {
            "task_id": task.id,
            "user_id": task.user_id,
            "target_id": target.id,
            "account_id": outcome.account_id,
            "action": str(outcome.step),
            "outcome": "unknown" if outcome.unknown else str(result.outcome),
            "error_code": result.error_code,
            "detail": f"{via}: {detail}" if via and detail else via or detail,
            "duration_ms": outcome.duration_ms,
            "at": now,
        }
        # The target, its counters, the log row, the lane's pacing and tallies: one statement on PostgreSQL.
        counters = await send_path.finish_sending(
            session,
            task.id,
            target.id,
            outcome.key,
            effect.stored_status,
            _target_values(target, result, effect, rules, now),
            expired_at=outcome.expired_at,
            log=log,
            lane=_lane_step(rt, current, outcome.account_id, result, effect, now),
        )
        if counters is None:
            return None
        if _not_reached(outcome, effect):
            await contact_policy.release(session, task, target)  # another task may contact them later
        if outcome.grant is not None and not result.charged:
            await rt.limiter.refund(session, outcome.grant)
        metrics.record_outcome(  # on commit
            session, task.platform, outcome.step, result, outcome.unknown, outcome.duration_ms or 0
        )
        if lane is not None and effect.lane_status is not None:
            await _lane_status(rt, session, current, lane, outcome.account_id, result, effect, now)
        if effect.fallback_to_message:
            target.error_code = result.error_code
        if result.suggest_suppression is not None:
            await _suppress(session, task, target, result)
        pause_reason = effect.pause_reason
        if effect.pause_if_repeated and pause_reason is None:
            recent = await log_store.recent_error_codes(
                session, task.id, str(outcome.step), REPEAT_PAUSE_AFTER
            )
            if repeated_refusal(recent, result.error_code):
                pause_reason = repeated_refusal_reason(result.error_code, result.detail)
        if pause_reason:
            await pause_task(session, rt, current, pause_reason, now)
        if pause_reason or effect.lane_status is not None:
            await publish_status(session, rt, current)  # other rows moved too: read the counters again
        else:  # the counters as the move returned them
            defer_event(session, rt.progress, task.id, status_event(current, counters, "progress"))
        await rt.faults.hit(Boundary.BEFORE_RECORD_COMMIT, task_id=task.id, target_id=target.id)
        return effect

    # Fenced by the key, so running it again after a lost connection writes nothing twice.
    return await rt.db.unit(write)


def _not_reached(outcome: StepOutcome, effect: Effect) -> bool:
    """The platform answered and provably did not reach the person (a refusal, an error, a wait)."""
    if outcome.unknown or outcome.result.delivery_uncertain:
        return False
    return effect.fallback_to_message or effect.target_status in contact_policy.NOT_REACHED


async def _premium_retry(
    session: AsyncSession, task: InviteTask, outcome: StepOutcome, rules: PlatformRules
) -> bool:
    """The sender has no Premium and another lane of the task does (asked only for the refusal it helps)."""
    if rules.premium_retry_code is None or outcome.result.error_code != rules.premium_retry_code:
        return False
    lanes = await task_store.lanes(session, task.id)
    if any(lane.is_premium for lane in lanes if lane.account_id == outcome.account_id):
        return False
    return premium_lane_waiting(
        (lane.is_premium, lane.status) for lane in lanes if lane.account_id != outcome.account_id
    )


def _effect(
    rt: Runtime,
    task: InviteTask,
    target: InviteTarget,
    outcome: StepOutcome,
    rules: PlatformRules,
    now: datetime,
    premium_retry: bool,
) -> Effect:
    if outcome.unknown:
        return Effect(TargetStatus.UNKNOWN, count_as_failure=True)
    return effect_of(
        outcome.result,
        action=task.action,
        step=outcome.step,
        attempts=target.attempts,
        max_attempts=task_settings(task).max_attempts,
        previous_error=target.error_code,
        now=now,
        tuning=Tuning.from_settings(rt.settings),
        rules=rules,
        premium_retry=premium_retry,
    )


def _target_values(
    target: InviteTarget, result: InviteResult, effect: Effect, rules: PlatformRules, now: datetime
) -> dict[str, Any]:
    if effect.fallback_to_message:
        return {"error_code": result.error_code, "error_detail": result.detail}
    final = effect.target_status not in (TargetStatus.PENDING, TargetStatus.SENDING)
    values: dict[str, Any] = {
        "attempts": target.attempts + (1 if effect.charge_attempt else 0),
        "error_code": kept_error(effect, result.error_code, target.error_code, rules),
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


async def _suppress(
    session: AsyncSession, task: InviteTask, target: InviteTarget, result: InviteResult
) -> None:
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
            "kind": kind,
            "key": key,
            "reason": str(result.suggest_suppression),
            "source": "platform",
            "note": result.error_code,
        }
        for kind, key in identities
        if key
    ]
    await suppressions.insert_many(session, rows)


def _lane_step(
    rt: Runtime, task: InviteTask, account_id: str, result: InviteResult, effect: Effect, now: datetime
) -> send_path.LaneStep:
    """Every outcome: the lane was used now and may act again after the pacing delay; the tallies."""
    delay = min_delay(rt.settings.caps_for(task.platform), task_settings(task))
    return send_path.LaneStep(
        account_id=account_id,
        used_at=now,
        next_action_at=now + timedelta(seconds=delay),
        sent=1 if effect.counts_as_sent else 0,
        failed=1 if effect.count_as_failure else 0,
        last_error=result.error_code,
    )


async def _lane_status(
    rt: Runtime,
    session: AsyncSession,
    task: InviteTask,
    lane: Lane,
    account_id: str,
    result: InviteResult,
    effect: Effect,
    now: datetime,
) -> None:
    """An outcome that changes the lane's (or the whole account's) status."""
    assert effect.lane_status is not None
    if effect.account_wide:
        touched = await task_store.restrict_account(
            session, account_id, effect.lane_status, effect.lane_cooldown_until, now, result.error_code
        )
        if touched and effect.lane_status in _NOTIFIED:  # once per account transition, not per lane
            await _account_event(session, task, account_id, effect, now)
        if effect.trips_breaker:
            for task_id in touched:
                await _check_breaker(rt, session, task_id, now, result.error_code)
        return
    # Only these columns are written (the ORM updates changed attributes); the move wrote the rest.
    lane.status = effect.lane_status
    lane.cooldown_until = effect.lane_cooldown_until
    await session.flush()
    if effect.lane_status is LaneStatus.EXCLUDED:
        lanes = await task_store.lanes(session, task.id)
        if stranded(other.status for other in lanes):
            await pause_task(session, rt, task, last_lane_excluded_reason(result.error_code), now)


# A platform wait (cooling down) is routine and short; these stop the account for a long time.
_NOTIFIED = (LaneStatus.RESTRICTED, LaneStatus.UNAVAILABLE)


async def _account_event(
    session: AsyncSession, task: InviteTask, account_id: str, effect: Effect, now: datetime
) -> None:
    kind = (
        NotificationEventType.ACCOUNT_UNAVAILABLE
        if effect.lane_status is LaneStatus.UNAVAILABLE
        else NotificationEventType.ACCOUNT_RESTRICTED
    )
    until = effect.lane_cooldown_until
    data = {"account_id": account_id, "platform": str(task.platform)}
    await emit(session, task.user_id, kind, data | ({"until": until.isoformat()} if until else {}), now)


async def _check_breaker(
    rt: Runtime, session: AsyncSession, task_id: uuid.UUID, now: datetime, code: str | None
) -> None:
    task = await task_store.task(session, task_id)
    if task is None or not checks_breaker(task.status):
        return
    breaker = task_settings(task).breaker
    recent, total = await task_store.restricted_lanes_since(session, task_id, now - breaker_window(breaker))
    if breaker_tripped(recent, total, breaker):
        await pause_task(session, rt, task, breaker_reason(recent, total, breaker, code), now)
