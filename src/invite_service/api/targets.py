"""Targets API, nested under a task the user owns (``OwnedTask`` 404s otherwise)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse

from invite_service.api.deps import BulkRoute, CurrentUser, OwnedTask, SessionDep, SettingsDep
from invite_service.api.idempotency import idempotent
from invite_service.api.params import UNREADABLE_BODY, RowIdPath
from invite_service.kit.inputs import Text
from invite_service.kit.pagination import MAX_LIMIT, Page, SortSpec
from invite_service.models.enums import TargetKind, TargetStatus
from invite_service.stores.targets import SORT_COLUMNS
from invite_service.targets import service
from invite_service.targets.schemas import (
    BulkActionIn,
    BulkActionOut,
    BulkTargetsIn,
    BulkTargetsOut,
    TargetIn,
    TargetOut,
    TargetStats,
    TargetUpdate,
)

# BulkRoute: a token before the body, and room for 10,000 rows in targets/bulk.
router = APIRouter(prefix="/tasks/{task_id:uuid}/targets", tags=["targets"], route_class=BulkRoute)


@router.post("", status_code=201, response_model=TargetOut, responses=UNREADABLE_BODY)
async def create_target(
    body: TargetIn, task: OwnedTask, session: SessionDep, settings: SettingsDep
) -> TargetOut:
    return await service.create_target(session, settings, task, body)


@router.post("/bulk", response_model=BulkTargetsOut, responses=UNREADABLE_BODY)
async def bulk_create(
    body: BulkTargetsIn,
    task: OwnedTask,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    return await idempotent(
        session,
        settings,
        user,
        f"POST /tasks/{task.id}/targets/bulk",
        key,
        body,
        200,
        lambda: service.bulk_create(session, settings, task, body),
    )


@router.get("", response_model=Page[TargetOut])
async def list_targets(
    task: OwnedTask,
    session: SessionDep,
    status: Annotated[list[TargetStatus] | None, Query()] = None,
    kind: TargetKind | None = None,
    q: Annotated[Text | None, Query(max_length=200, description="search usernames and names")] = None,
    error_code: Annotated[
        Text | None, Query(max_length=64, description="exact error code (an unknown one: an empty page)")
    ] = None,
    sort: Annotated[Text, Query(description="id or status; '-' for descending")] = "id",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[Text | None, Query(max_length=1000)] = None,
) -> Page[TargetOut]:
    return await service.list_targets(
        session,
        task,
        statuses=[s.value for s in status or []],
        kind=kind.value if kind else None,
        q=q or None,
        error_code=error_code or None,
        sort=SortSpec.parse(sort, list(SORT_COLUMNS)),
        cursor=cursor,
        limit=limit,
    )


@router.get("/stats", response_model=TargetStats)
async def target_stats(task: OwnedTask, session: SessionDep) -> TargetStats:
    return await service.stats(session, task)


@router.post("/bulk-action", response_model=BulkActionOut, responses=UNREADABLE_BODY)
async def bulk_action(body: BulkActionIn, task: OwnedTask, session: SessionDep) -> BulkActionOut:
    return await service.bulk_action(session, task, body)


@router.get("/{target_id:int}", response_model=TargetOut)
async def get_target(target_id: RowIdPath, task: OwnedTask, session: SessionDep) -> TargetOut:
    return await service.get_target(session, task, target_id)


@router.put("/{target_id:int}", response_model=TargetOut, responses=UNREADABLE_BODY)
async def update_target(
    target_id: RowIdPath, body: TargetUpdate, task: OwnedTask, session: SessionDep
) -> TargetOut:
    return await service.update_target(session, task, target_id, body)


@router.delete("/{target_id:int}", status_code=204)
async def delete_target(target_id: RowIdPath, task: OwnedTask, session: SessionDep) -> Response:
    await service.delete_target(session, task, target_id)
    return Response(status_code=204)
