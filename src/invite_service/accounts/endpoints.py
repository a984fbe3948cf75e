"""Accounts API: the user's accounts (with usage per window) and a task's lanes."""

from __future__ import annotations

from fastapi import APIRouter

from invite_service.accounts import service
from invite_service.accounts.schemas import AccountOut, LaneOut
from invite_service.auth.dependencies import CurrentUser, RuntimeDep, SessionDep
from invite_service.invite_tasks.dependencies import OwnedTask
from invite_service.models.enums import Platform

router = APIRouter(tags=["accounts"])


@router.get("/accounts", response_model=list[AccountOut])
async def list_accounts(
    user: CurrentUser, session: SessionDep, rt: RuntimeDep, platform: Platform | None = None
) -> list[AccountOut]:
    return await service.list_accounts(session, rt, user, platform)


@router.get("/tasks/{task_id}/accounts", response_model=list[LaneOut])
async def task_accounts(task: OwnedTask, session: SessionDep) -> list[LaneOut]:
    return await service.task_lanes(session, task)
