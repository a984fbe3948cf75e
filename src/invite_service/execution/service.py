"""Control use cases for the API: load the user's task under a lock, change its state, show it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.execution import control
from invite_service.invite_tasks.schemas import TaskOut
from invite_service.invite_tasks.service import get_owned, task_view
from invite_service.models import InviteTask
from invite_service.observability import audit
from invite_service.runtime import Runtime

Change = Callable[[AsyncSession, Runtime, InviteTask], Awaitable[None]]


def _change(action: str) -> Change:
    async def run(s: AsyncSession, rt: Runtime, task: InviteTask) -> None:
        now = rt.clock.now()
        if action == "start":
            await control.start(s, rt, task, now)
        elif action == "pause":
            if await control.pause(s, rt, task, None, now):
                await audit.record(s, task.user_id, "task.pause", "task", task.id, {"by": "user"})
        elif action == "resume":
            await control.resume(s, rt, task, now)
            await audit.record(s, task.user_id, "task.resume", "task", task.id, {})
        else:
            await control.cancel(s, rt, task, now)
            await audit.record(s, task.user_id, "task.cancel", "task", task.id, {})

    return run


CHANGES: dict[str, Change] = {name: _change(name) for name in ("start", "pause", "resume", "cancel")}


async def apply(s: AsyncSession, rt: Runtime, user_id: str, task_id: uuid.UUID, action: str) -> TaskOut:
    task = await get_owned(s, user_id, task_id, for_update=True)
    await CHANGES[action](s, rt, task)
    return await task_view(s, task)


async def apply_to(s: AsyncSession, rt: Runtime, task: InviteTask, action: str) -> None:
    """The same change for an already-loaded task (the bulk endpoint)."""
    await CHANGES[action](s, rt, task)
