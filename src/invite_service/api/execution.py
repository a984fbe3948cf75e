"""Control API: start, pause, resume, cancel. Repeats are harmless; a forbidden change is a 409."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from invite_service.api.deps import CurrentUser, RuntimeDep, SessionDep
from invite_service.execution import service
from invite_service.invite_tasks.schemas import TaskOut

router = APIRouter(prefix="/tasks/{task_id:uuid}", tags=["execution"])


@router.post(
    "/start", response_model=TaskOut, summary="Start (or schedule) a task; 422 lists why it cannot run"
)
async def start(task_id: uuid.UUID, user: CurrentUser, session: SessionDep, rt: RuntimeDep) -> TaskOut:
    return await service.apply(session, rt, user, task_id, "start")


@router.post("/pause", response_model=TaskOut, summary="Pause: no new send starts once this returns")
async def pause(task_id: uuid.UUID, user: CurrentUser, session: SessionDep, rt: RuntimeDep) -> TaskOut:
    return await service.apply(session, rt, user, task_id, "pause")


@router.post("/resume", response_model=TaskOut)
async def resume(task_id: uuid.UUID, user: CurrentUser, session: SessionDep, rt: RuntimeDep) -> TaskOut:
    return await service.apply(session, rt, user, task_id, "resume")


@router.post("/cancel", response_model=TaskOut, summary="Cancel: every pending target becomes skipped")
async def cancel(task_id: uuid.UUID, user: CurrentUser, session: SessionDep, rt: RuntimeDep) -> TaskOut:
    return await service.apply(session, rt, user, task_id, "cancel")
