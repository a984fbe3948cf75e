"""``OwnedTask``: the path's task, loaded for the current user, or a 404."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from invite_service.auth.dependencies import CurrentUser, SessionDep
from invite_service.invite_tasks.service import get_owned
from invite_service.models import InviteTask


async def owned_task(task_id: uuid.UUID, user_id: CurrentUser, session: SessionDep) -> InviteTask:
    return await get_owned(session, user_id, task_id)


OwnedTask = Annotated[InviteTask, Depends(owned_task)]
