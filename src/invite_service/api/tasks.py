"""Tasks API: thin handlers that authenticate, validate, call the service and return."""

from __future__ import annotations

import functools
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse

from invite_service.accounts import service as accounts
from invite_service.api.deps import CurrentUser, OwnedTask, RuntimeDep, SessionDep, SettingsDep, read_only
from invite_service.api.idempotency import idempotent
from invite_service.api.params import UNREADABLE_BODY
from invite_service.errors import problem_responses
from invite_service.execution import service as execution
from invite_service.execution import trial_message
from invite_service.invite_tasks import service
from invite_service.invite_tasks.schemas import (
    BulkTaskAction,
    BulkTaskResult,
    DuplicateIn,
    FieldsOut,
    MessageTestIn,
    MessageTestOut,
    TaskCreate,
    TaskOut,
    TaskUpdate,
)
from invite_service.kit.inputs import Instant, Text
from invite_service.kit.pagination import MAX_LIMIT, SortSpec, TotalOnAskPage
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


@router.get("", response_model=TotalOnAskPage[TaskOut])
@read_only
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
    with_total: Annotated[
        bool,
        Query(
            description="count every match for `total` (reads them all); without it `total` is null "
            "unless this first page holds every match"
        ),
    ] = False,
) -> TotalOnAskPage[TaskOut]:
    filters = TaskFilters(
        statuses=[s.value for s in status or []],
        platform=platform.value if platform else None,
        priority=priority.value if priority else None,
        action=action.value if action else None,
        q=q or None,
        created_from=created_from,
        created_to=created_to,
    )
    spec = SortSpec.parse(sort, list(SORT_COLUMNS))
    return await service.list_tasks(
        session, user, filters, spec, cursor, limit, rt.clock.now(), with_total=with_total
    )


@router.post("/bulk", response_model=BulkTaskResult, responses=UNREADABLE_BODY)
async def bulk_tasks(
    body: BulkTaskAction, user: CurrentUser, session: SessionDep, rt: RuntimeDep
) -> BulkTaskResult:
    return await service.bulk(
        session, user, body, lambda task, action: execution.apply_to(session, rt, task, action)
    )


@router.get("/{task_id:uuid}", response_model=TaskOut)
@read_only
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


@router.get(
    "/{task_id:uuid}/fields", response_model=FieldsOut, summary="Template fields for the insert chips"
)
@read_only
async def task_fields(task_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> FieldsOut:
    """The standard fields and every imported field of the task's targets, with how many targets have it."""
    return await service.task_fields(session, user, task_id)


@router.post(
    "/{task_id:uuid}/test-message",
    response_model=MessageTestOut,
    summary="Send a test of the task's message to myself",
    responses={**UNREADABLE_BODY, **problem_responses(409, 429)},
)
async def send_test_message(
    task: OwnedTask,
    body: MessageTestIn,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    rt: RuntimeDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Renders the template for ``target_id`` (or a sample with empty fields: the fallbacks show) and sends
    it to ``to`` through the task's platform adapter, from one of the task's accounts, under the same
    per-account limits as the engine: it counts against the account's message caps, and a full cap is a
    429 ``CAP_REACHED`` with ``until``. The task's targets and counters are not touched; the send is in the
    audit log (``task.test_message``). 409 when the task does not send messages."""
    return await idempotent(
        session,
        settings,
        user,
        f"POST /tasks/{task.id}/test-message",
        key,
        body,
        200,
        lambda: trial_message.send_test_message(session, rt, task, body, idempotency_key=key),
    )
