"""Tasks API: thin handlers that authenticate, validate, call the service and return."""

from __future__ import annotations

import functools
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse

from invite_service.accounts import service as accounts
from invite_service.api.deps import CurrentUser, RuntimeDep, SessionDep, SettingsDep
from invite_service.api.idempotency import idempotent
from invite_service.api.params import UNREADABLE_BODY
from invite_service.execution import service as execution
from invite_service.invite_tasks import service
from invite_service.invite_tasks.schemas import (
    BulkTaskAction,
    BulkTaskResult,
    DuplicateIn,
    TaskCreate,
    TaskOut,
    TaskUpdate,
)
from invite_service.kit.inputs import Instant, Text
from invite_service.kit.pagination import MAX_LIMIT, Page, SortSpec
from invite_service.models.enums import Platform, Priority, TaskAction, TaskStatus
from invite_service.stores.tasks import SORT_COLUMNS, TaskFilters

router = APIRouter(prefix="/tasks", tags=["tasks"])
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]


@router.post("", status_code=201, response_model=TaskOut, responses=UNREADABLE_BODY)
async def create_task(
    body: TaskCreate,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    rt: RuntimeDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    check = functools.partial(accounts.check_account_ids, rt, user)
    return await idempotent(
        session,
        settings,
        user,
        "POST /tasks",
        key,
        body,
        201,
        lambda: service.create_task(session, settings, user, body, check),
    )


@router.get("", response_model=Page[TaskOut])
async def list_tasks(
    user: CurrentUser,
    session: SessionDep,
    rt: RuntimeDep,
    status: Annotated[list[TaskStatus] | None, Query(description="repeat for several")] = None,
    platform: Platform | None = None,
    priority: Priority | None = None,
    action: TaskAction | None = None,
    q: Annotated[Text | None, Query(max_length=200, description="search in names")] = None,
    created_from: Instant | None = None,
    created_to: Instant | None = None,
    sort: Annotated[
        str, Query(description="created_at, name, priority or status; '-' for descending")
    ] = "-created_at",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[Text | None, Query(max_length=1000)] = None,
) -> Page[TaskOut]:
    filters = TaskFilters(
        statuses=[s.value for s in status or []],
        platform=platform.value if platform else None,
        priority=priority.value if priority else None,
        action=action.value if action else None,
        q=q or None,
        created_from=created_from,
        created_to=created_to,
    )
    return await service.list_tasks(
        session, user, filters, SortSpec.parse(sort, list(SORT_COLUMNS)), cursor, limit, rt.clock.now()
    )


@router.post("/bulk", response_model=BulkTaskResult, responses=UNREADABLE_BODY)
async def bulk_tasks(
    body: BulkTaskAction, user: CurrentUser, session: SessionDep, rt: RuntimeDep
) -> BulkTaskResult:
    return await service.bulk(
        session, user, body, lambda task, action: execution.apply_to(session, rt, task, action)
    )


@router.get("/{task_id:uuid}", response_model=TaskOut)
async def get_task(task_id: uuid.UUID, user: CurrentUser, session: SessionDep, rt: RuntimeDep) -> TaskOut:
    return await service.get_task(session, user, task_id, rt.clock.now())


@router.put("/{task_id:uuid}", response_model=TaskOut, responses=UNREADABLE_BODY)
async def update_task(
    task_id: uuid.UUID,
    body: TaskUpdate,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    rt: RuntimeDep,
) -> TaskOut:
    check = functools.partial(accounts.check_account_ids, rt, user)
    return await service.update_task(session, settings, user, task_id, body, check)


@router.delete("/{task_id:uuid}", status_code=204)
async def delete_task(task_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Response:
    await service.delete_task(session, user, task_id)
    return Response(status_code=204)


@router.post("/{task_id:uuid}/duplicate", status_code=201, response_model=TaskOut, responses=UNREADABLE_BODY)
async def duplicate_task(
    task_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    body: DuplicateIn | None = None,
    include_targets: Annotated[bool | None, Query()] = None,
) -> TaskOut:
    body = body or DuplicateIn()
    if include_targets is not None:
        body = body.model_copy(update={"include_targets": include_targets})
    return await service.duplicate_task(session, user, task_id, body)
