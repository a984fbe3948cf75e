"""When a call's fate is unknown: ask the platform where it can tell; never re-send blindly."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from invite_service.adapters.base import InvitePlatformAdapter, InviteResult, Outcome
from invite_service.execution import repository as repo
from invite_service.execution.control import publish_status
from invite_service.execution.policy import step_for
from invite_service.execution.refs import target_ref
from invite_service.models import InviteTarget, InviteTask
from invite_service.models.enums import TargetStatus, TaskAction
from invite_service.runtime import Runtime

SENDING = TargetStatus.SENDING.value


async def resolve_uncertain(
    adapter: InvitePlatformAdapter,
    task: InviteTask,
    target: InviteTarget,
    account_id: str,
    step: str,
    result: InviteResult,
) -> tuple[InviteResult, bool]:
    """The call may have worked: ask the platform where it can tell, never re-send blindly."""
    if step == "invite" and adapter.supports_membership_check:
        member = await adapter.check_membership(account_id, task.destination or "", target_ref(target))
        if member is True:
            return InviteResult(Outcome.SUCCESS, detail="confirmed by a membership check"), False
        if member is False:  # provably not done: safe to try again
            return InviteResult(Outcome.TRANSIENT, error_code=result.error_code, detail=result.detail), False
    return result, True


def _verdict(member: bool | None, now: datetime) -> tuple[str, str, dict[str, Any]]:
    """(count, new status, column values) for a stuck send, by what the membership check said."""
    if member is True:
        detail = "confirmed by a membership check"
        return "confirmed", TargetStatus.INVITED.value, {"processed_at": now, "error_detail": detail}
    if member is False:  # provably not done: back to the pool, free for any lane
        return "retried", TargetStatus.PENDING.value, {"account_id": None}
    return "unknown", TargetStatus.UNKNOWN.value, {"processed_at": now, "error_code": "DELIVERY_UNKNOWN"}


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
            member = await adapter.check_membership(
                target.account_id, task.destination or "", target_ref(target)
            )
        name, status, values = _verdict(member, now)
        async with rt.db.session() as s:
            await repo.set_next_run(s, task.id, now)  # the task row first, then its target
            moved = await repo.finish_target(
                s, task.id, target.id, SENDING, status, lease_until=None, **values
            )
            counts[name] += moved
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
                await publish_status(s, rt, task)
    return counts
