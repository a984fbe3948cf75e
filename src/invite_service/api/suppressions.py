"""Suppression list API: ``/api/v1/suppressions`` (the user's own list; another user's entry is a 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from fastapi.responses import StreamingResponse

from invite_service.api.deps import CurrentUser, DatabaseDep, SessionDep, SettingsDep, UploadRoute
from invite_service.api.params import UNREADABLE_BODY, RowIdPath
from invite_service.imports.schemas import MAPPING_DOC, ImportOptions
from invite_service.kit.inputs import Text
from invite_service.kit.pagination import MAX_LIMIT, Page, SortSpec
from invite_service.models.enums import Platform, SuppressionReason, TargetKind
from invite_service.stores.suppressions import SORT_COLUMNS
from invite_service.suppressions import bulk, service
from invite_service.suppressions.schemas import SuppressionImportOut, SuppressionIn, SuppressionOut

router = APIRouter(prefix="/suppressions", tags=["suppressions"], route_class=UploadRoute)


@router.post(
    "",
    response_model=SuppressionOut,
    status_code=201,
    responses={
        200: {"model": SuppressionOut, "description": "already on the list (unchanged)"},
        **UNREADABLE_BODY,
    },
)
async def add_suppression(
    body: SuppressionIn, user: CurrentUser, session: SessionDep, settings: SettingsDep, response: Response
) -> SuppressionOut:
    out, created = await service.add(session, settings, user, body)
    response.status_code = 201 if created else 200
    return out


@router.get("", response_model=Page[SuppressionOut])
async def list_suppressions(
    user: CurrentUser,
    session: SessionDep,
    q: Annotated[Text | None, Query(max_length=200, description="search keys and notes")] = None,
    reason: SuppressionReason | None = None,
    kind: TargetKind | None = None,
    platform: Annotated[
        Platform | None,
        Query(description="only the entries that apply to this platform (its own and every platform's)"),
    ] = None,
    sort: Annotated[Text, Query(description="created_at or key; '-' for descending")] = "-created_at",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[Text | None, Query(max_length=1000)] = None,
) -> Page[SuppressionOut]:
    return await service.list_entries(
        session,
        user,
        platform=platform.value if platform else None,
        kind=kind.value if kind else None,
        reason=reason.value if reason else None,
        q=q or None,
        sort=SortSpec.parse(sort, list(SORT_COLUMNS)),
        cursor=cursor,
        limit=limit,
    )


@router.delete("/{suppression_id:int}", status_code=204)
async def delete_suppression(suppression_id: RowIdPath, user: CurrentUser, session: SessionDep) -> Response:
    await service.delete(session, user, suppression_id)
    return Response(status_code=204)


@router.post("/import", response_model=SuppressionImportOut, responses=UNREADABLE_BODY)
async def import_suppressions(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="CSV, TSV, XLSX, JSON array or NDJSON")],
    platform: Annotated[
        Platform | None, Form(description="the one platform the entries apply to; left out: every platform")
    ] = None,
    reason: Annotated[SuppressionReason, Form(description="for rows without a reason column")] = (
        SuppressionReason.OPT_OUT
    ),
    mapping: Annotated[str | None, Form(description=MAPPING_DOC)] = None,
    sheet: Annotated[str | None, Form(max_length=100)] = None,
) -> SuppressionImportOut:
    options = ImportOptions.from_form(mapping, True, True, sheet)
    return await bulk.import_file(
        session,
        settings,
        user,
        file,
        platform=platform.value if platform else None,
        reason=reason,
        mapping=options.mapping,
        sheet=options.sheet,
    )


@router.get("/export.csv", response_class=StreamingResponse)
async def export_suppressions(
    user: CurrentUser, database: DatabaseDep, platform: Platform | None = None
) -> StreamingResponse:
    return StreamingResponse(
        service.export_csv(database, user, platform.value if platform else None),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="suppressions.csv"'},
    )
