"""Control use cases for the API: load the user's task under a lock, change its state, show it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.accounts.schemas import ReactivationOut
from invite_service.accounts.service import find_account
from invite_service.context.runtime import Runtime
from invite_service.errors import Conflict, NotFound
from invite_service.execution import control
from invite_service.execution.premium import refresh_premium
from invite_service.invite_tasks.schemas import TaskOut
from invite_service.invite_tasks.service import task_view
from invite_service.models import InviteTask
from invite_service.models.enums import LaneStatus, TaskStatus
from invite_service.observability import audit
from invite_service.stores import tasks as task_store
from invite_service.stores.tasks import get_owned


class AccountNotFound(NotFound):
    code, title = "account_not_found", "Account not found"


class AccountStillUnavailable(Conflict):
    code, title = "account_unavailable", "The account is still unavailable"


Change = Callable[[AsyncSession, Runtime, InviteTask], Awaitable[None]]


def _change(action: str) -> Change:
    async def run(session: AsyncSession, rt: Runtime, task: InviteTask) -> None:
        now = rt.clock.now()
        if action == "start":
            await control.start(session, rt, task, now)
            await refresh_premium(session, rt, task)
        elif action == "pause":
            if await control.pause(session, rt, task, None, now):
                await audit.record(session, task.user_id, "task.pause", "task", task.id, {"by": "user"})
        elif action == "resume":
            await control.resume(session, rt, task, now)
            await refresh_premium(session, rt, task)
            await audit.record(session, task.user_id, "task.resume", "task", task.id, {})
        else:
            await control.cancel(session, rt, task, now)
            await audit.record(session, task.user_id, "task.cancel", "task", task.id, {})

    return run


CHANGES: dict[str, Change] = {name: _change(name) for name in ("start", "pause", "resume", "cancel")}


async def apply(session: AsyncSession, rt: Runtime, user_id: str, task_id: uuid.UUID, action: str) -> TaskOut:
    task = await get_owned(session, user_id, task_id, for_update=True)
    await CHANGES[action](session, rt, task)
    return await task_view(session, task)


async def apply_to(session: AsyncSession, rt: Runtime, task: InviteTask, action: str) -> None:
    """The same change for an already-loaded task (the bulk endpoint)."""
    await CHANGES[action](session, rt, task)


async def reactivate_account(
    session: AsyncSession, rt: Runtime, user_id: str, account_id: str
) -> ReactivationOut:
    """Put an account that was ``unavailable`` (its session revoked, logged out, …) back to work in the
    user's tasks, once the platform reports it usable again.

    Only ``unavailable`` lanes: a restriction (PEER_FLOOD and kin) runs its full time and a lane the task
    excluded stays out. Running tasks pick the lane up at once; paused tasks stay paused.
    """
    account = await find_account(rt, user_id, account_id)
    if account is None:
        raise AccountNotFound(f"You have no account {account_id!r}.")
    if not account.usable:
        why = f" ({account.status_detail})" if account.status_detail else ""
        raise AccountStillUnavailable(
            f"The Integration Service still reports account {account_id!r} as {account.status}{why}; "
            "fix it there (log the account in again), then reactivate it here."
        )
    tasks = await task_store.lock_tasks_with_lane(session, user_id, account_id, LaneStatus.UNAVAILABLE)
    task_ids = [task_id for task_id, _status in tasks]
    reopened = await task_store.reopen_lanes(session, task_ids, account_id, LaneStatus.UNAVAILABLE)
    now = rt.clock.now()
    for task_id, status in tasks:
        if status == TaskStatus.RUNNING:
            await task_store.set_next_run(session, task_id, now)  # the ticker dispatches it at its next beat
    await audit.record(
        session,
        user_id,
        "account.reactivate",
        "account",
        account_id,
        {"lanes": reopened, "tasks": len(task_ids)},
    )
    return ReactivationOut(
        account_id=account_id,
        status=account.status,
        lanes_reactivated=reopened,
        task_ids=task_ids,
        paused_task_ids=[task_id for task_id, status in tasks if status == TaskStatus.PAUSED],
    )
