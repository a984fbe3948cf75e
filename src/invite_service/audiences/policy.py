"""The contact policy at send time: the frequency cap (a claimed contact mark) and the consent rule.

The batch claims the person's mark in the transaction that takes the limiter slot and marks the target
``sending``; a refused claim rolls that transaction back and skips the target here. The outcome gives the
mark back when the platform provably did not reach the person.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.models import InviteTarget, InviteTask
from invite_service.models.contact_policy import EffectivePolicy
from invite_service.models.enums import Step, TargetKind, TargetStatus
from invite_service.models.task_settings import TaskSettings
from invite_service.stores import contact_marks, in_flight, send_path
from invite_service.stores import logs as log_store

CONTACTED_RECENTLY = "CONTACTED_RECENTLY"
NO_CONSENT = "NO_CONSENT"
# Where a definitive outcome leaves the target when the platform did not reach the person.
NOT_REACHED = frozenset({TargetStatus.FAILED, TargetStatus.PENDING, TargetStatus.SKIPPED})


def channel(step: Step, destination: str | None) -> str:
    """One cap for every message, one per chat for invites (an invite to chat A says nothing of chat B)."""
    return "message" if step is Step.MESSAGE else f"invite:{destination or ''}"


def person(target: InviteTarget) -> str:
    return f"{target.kind}:{target.key}"


def effective(user_policy: EffectivePolicy, task: InviteTask) -> EffectivePolicy:
    override = TaskSettings.model_validate(task.settings).contact_policy
    if override is None:
        return user_policy
    return user_policy.tightened(
        override.message_cooldown_days, override.invite_cooldown_days, override.require_consent
    )


async def task_policy(session: AsyncSession, task: InviteTask) -> EffectivePolicy:
    return effective(await contact_marks.policy(session, task.user_id), task)


async def claim(
    session: AsyncSession,
    task: InviteTask,
    target: InviteTarget,
    step: Step,
    now: datetime,
    rules: EffectivePolicy | None = None,
) -> bool:
    """Claim the person's mark for this send (False: contacted within the cooldown, skip them). ``rules``:
    the task's effective policy when the caller has read it already (a batch reads it once)."""
    rules = rules or await task_policy(session, task)
    return await contact_marks.claim(session, **_claim_args(task, target, step, now, rules))


def claim_statement(
    dialect: str, task: InviteTask, target: InviteTarget, step: Step, now: datetime, rules: EffectivePolicy
) -> Any:
    """``claim`` as a statement the send path runs inside its own (None: no cap, nothing to claim)."""
    return contact_marks.claim_statement(dialect, **_claim_args(task, target, step, now, rules))


def _claim_args(
    task: InviteTask, target: InviteTarget, step: Step, now: datetime, rules: EffectivePolicy
) -> dict[str, Any]:
    return {
        "user_id": task.user_id,
        "platform": task.platform,
        "channel": channel(step, task.destination),
        "person": person(target),
        "now": now,
        "cooldown_days": rules.cooldown_days(step is not Step.MESSAGE),
        "task_id": task.id,
        "target_id": target.id,
    }


def identity(task: InviteTask, target: InviteTarget) -> send_path.Identity:
    """Who the target is, for the send path's checks (suppression list, consent)."""
    return send_path.Identity(
        user_id=task.user_id,
        platform=task.platform,
        contact_id=target.contact_id,
        kind=target.kind,
        key=target.key,
        identities={
            TargetKind.USERNAME: target.username,
            TargetKind.USER_ID: target.platform_user_id,
            TargetKind.PHONE: target.phone,
        },
    )


async def lacks_consent(session: AsyncSession, task: InviteTask, target: InviteTarget) -> bool:
    """The effective policy requires consent and the target's contact has none recorded (a target that is
    no contact at all has none either)."""
    if not (await task_policy(session, task)).require_consent:
        return False
    return not await session.scalar(select(send_path.consent_given(identity(task, target))))


async def skip(
    session: AsyncSession,
    task: InviteTask,
    target: InviteTarget,
    account_id: str,
    code: str,
    step: Step,
    now: datetime,
) -> bool:
    """Finish a reserved target as skipped by the policy, with its log row (like a suppressed one)."""
    moved = await in_flight.finish_target(
        session,
        task.id,
        target.id,
        TargetStatus.RESERVED,
        TargetStatus.SKIPPED,
        error_code=code,
        processed_at=now,
        lease_until=None,
    )
    if moved:
        await log_store.log(
            session,
            task_id=task.id,
            user_id=task.user_id,
            target_id=target.id,
            account_id=account_id,
            action=str(step) if code == CONTACTED_RECENTLY else "check",
            outcome="skipped",
            error_code=code,
            at=now,
        )
    return moved


async def release(session: AsyncSession, task: InviteTask, target: InviteTarget) -> None:
    await contact_marks.release(session, task.id, target.id)
