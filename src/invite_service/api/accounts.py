"""Accounts API: the user's accounts (with usage per window) and a task's lanes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from invite_service.accounts import service
from invite_service.accounts.schemas import AccountOut, LaneOut, ReactivationOut
from invite_service.api.deps import CurrentUser, OwnedTask, RuntimeDep, SessionDep
from invite_service.execution import service as execution
from invite_service.kit.inputs import Text
from invite_service.kit.pagination import MAX_LIMIT, Page
from invite_service.models.enums import Platform

router = APIRouter(tags=["accounts"])


@router.get("/accounts", response_model=Page[AccountOut])
async def list_accounts(
    user: CurrentUser,
    session: SessionDep,
    rt: RuntimeDep,
    platform: Platform | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: Annotated[Text | None, Query(max_length=1000)] = None,
) -> Page[AccountOut]:
    """The user's accounts (all platforms, or one), the same page shape as every list: each with its
    state, usage per window, why it waits (``waiting``), whether it is simulated and the tasks using it."""
    return await service.list_accounts(session, rt, user, platform, limit=limit, cursor=cursor)


@router.get("/tasks/{task_id:uuid}/lanes", response_model=list[LaneOut])
async def task_lanes(task: OwnedTask, session: SessionDep) -> list[LaneOut]:
    """The task's lanes: each account working for it, with its state, cooldown and counts."""
    return await service.task_lanes(session, task)


@router.get("/tasks/{task_id:uuid}/accounts", response_model=list[LaneOut], deprecated=True)
async def task_accounts(task: OwnedTask, session: SessionDep) -> list[LaneOut]:
    """The old name of ``GET /tasks/{task_id}/lanes``; kept so existing clients keep working."""
    return await service.task_lanes(session, task)


@router.post("/accounts/{account_id}/reactivate", response_model=ReactivationOut)
async def reactivate_account(
    account_id: str, user: CurrentUser, session: SessionDep, rt: RuntimeDep
) -> ReactivationOut:
    """After the account was fixed in the Integration Service (a revoked session logged in again): its
    ``unavailable`` lanes go back to work. 409 while the platform still reports it unusable; restrictions
    are never lifted early."""
    return await execution.reactivate_account(session, rt, user, account_id)
