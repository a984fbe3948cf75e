"""Audiences API: ``/api/v1/audiences`` (the user's own; another user's audience is a 404)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import JSONResponse, StreamingResponse

from invite_service.api.deps import BulkRoute, CurrentUser, DatabaseDep, SessionDep, SettingsDep
from invite_service.api.idempotency import idempotent
from invite_service.api.params import UNREADABLE_BODY
from invite_service.audiences import contacts_service, export, service
from invite_service.audiences.schemas import (
    AddContactsIn,
    AddContactsOut,
    AudienceIn,
    AudienceOut,
    AudienceUpdate,
    ContactOut,
    RemoveContactsIn,
    RemoveContactsOut,
)
from invite_service.errors import problem_responses
from invite_service.kit.inputs import Text
from invite_service.kit.pagination import MAX_LIMIT, Page
from invite_service.models import Audience
from invite_service.models.enums import Platform

router = APIRouter(prefix="/audiences", tags=["audiences"])
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[Text | None, Query(max_length=1000)]


async def owned_audience(audience_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Audience:
    """Resolved before the body is read: another user's audience is a 404 whatever the body holds."""
    return await service.owned(session, user, audience_id)


OwnedAudience = Annotated[Audience, Depends(owned_audience)]


@router.get("", response_model=Page[AudienceOut])
async def list_audiences(
    user: CurrentUser,
    session: SessionDep,
    platform: Platform | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[AudienceOut]:
    return await service.list_audiences(session, user, platform.value if platform else None, cursor, limit)


@router.post(
    "",
    status_code=201,
    response_model=AudienceOut,
    responses={**UNREADABLE_BODY, **problem_responses(409)},
)
async def create_audience(
    body: AudienceIn,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return await idempotent(
        session,
        settings,
        user,
        "POST /audiences",
        key,
        body,
        201,
        lambda: service.create(session, user, body),
    )


@router.get("/{audience_id:uuid}", response_model=AudienceOut)
async def get_audience(audience: OwnedAudience, user: CurrentUser, session: SessionDep) -> AudienceOut:
    return await service.get(session, user, audience.id)


@router.patch(
    "/{audience_id:uuid}", response_model=AudienceOut, responses={**UNREADABLE_BODY, **problem_responses(409)}
)
async def update_audience(
    audience: OwnedAudience, body: AudienceUpdate, user: CurrentUser, session: SessionDep
) -> AudienceOut:
    return await service.update(session, user, audience.id, body)


@router.delete("/{audience_id:uuid}", status_code=204, responses=problem_responses(409))
async def delete_audience(audience: OwnedAudience, user: CurrentUser, session: SessionDep) -> Response:
    await service.delete(session, user, audience.id)
    return Response(status_code=204)


@router.get("/{audience_id:uuid}/contacts", response_model=Page[ContactOut])
async def list_audience_contacts(
    audience: OwnedAudience,
    user: CurrentUser,
    session: SessionDep,
    q: Annotated[
        Text | None, Query(max_length=200, description="part of a username, name, phone or user id")
    ] = None,
    tag: Annotated[Text | None, Query(max_length=64, description="contacts with this tag")] = None,
    field: Annotated[
        Text | None,
        Query(max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$", description="a custom field"),
    ] = None,
    value: Annotated[
        Text | None, Query(max_length=1000, description="the field's value (with field)")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[ContactOut]:
    return await contacts_service.audience_contacts(
        session,
        user,
        audience.id,
        cursor,
        limit,
        q=q or None,
        tag=tag.strip().lower() if tag else None,
        field=field,
        value=value,
    )


async def add_audience_contacts(
    audience: OwnedAudience,
    body: AddContactsIn,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> AddContactsOut:
    return await contacts_service.add_to_audience(session, settings, user, audience.id, body)


# BulkRoute: the token is checked before the body is read, and up to 10,000 rows fit (like targets/bulk).
router.add_api_route(
    "/{audience_id:uuid}/contacts",
    add_audience_contacts,
    methods=["POST"],
    response_model=AddContactsOut,
    responses={**UNREADABLE_BODY, **problem_responses(413)},
    route_class_override=BulkRoute,
)


@router.post(
    "/{audience_id:uuid}/contacts/remove", response_model=RemoveContactsOut, responses=UNREADABLE_BODY
)
async def remove_audience_contacts(
    audience: OwnedAudience, body: RemoveContactsIn, user: CurrentUser, session: SessionDep
) -> RemoveContactsOut:
    return await service.remove_contacts(session, user, audience.id, body)


@router.get("/{audience_id:uuid}/export.csv", response_class=StreamingResponse)
async def export_audience(
    audience: OwnedAudience, user: CurrentUser, session: SessionDep, database: DatabaseDep
) -> StreamingResponse:
    return StreamingResponse(
        export.export_csv(database, user, audience.id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audience.csv"'},
    )
