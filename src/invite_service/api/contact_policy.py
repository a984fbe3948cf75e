"""The contact policy and audience preview API: ``/contacts/policy``, ``/audiences/preview`` and
``/tasks/{id}/audience-preview`` (declared before the contacts router's ``/contacts/{id}``)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from invite_service.api.deps import CurrentUser, RuntimeDep, SessionDep
from invite_service.api.params import UNREADABLE_BODY
from invite_service.audiences import preview as service
from invite_service.audiences.preview import (
    AudiencePreview,
    AudiencePreviewIn,
    ContactPolicyIn,
    ContactPolicyOut,
)

router = APIRouter(tags=["audiences"])


@router.get("/contacts/policy", response_model=ContactPolicyOut)
async def get_contact_policy(user: CurrentUser, session: SessionDep) -> ContactPolicyOut:
    return await service.get_policy(session, user)


@router.put("/contacts/policy", response_model=ContactPolicyOut, responses=UNREADABLE_BODY)
async def put_contact_policy(
    body: ContactPolicyIn, user: CurrentUser, session: SessionDep
) -> ContactPolicyOut:
    return await service.put_policy(session, user, body)


@router.post("/audiences/preview", response_model=AudiencePreview, responses=UNREADABLE_BODY)
async def preview_audiences(
    body: AudiencePreviewIn, user: CurrentUser, session: SessionDep, rt: RuntimeDep
) -> AudiencePreview:
    return await service.preview(session, user, body, rt.clock.now())


@router.get("/tasks/{task_id:uuid}/audience-preview", response_model=AudiencePreview)
async def task_audience_preview(
    task_id: uuid.UUID, user: CurrentUser, session: SessionDep, rt: RuntimeDep
) -> AudiencePreview:
    return await service.task_preview(session, user, task_id, rt.clock.now())
