"""Contacts API: ``/api/v1/contacts`` (the user's own; another user's contact is a 404)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from invite_service.api.deps import CurrentUser, SessionDep
from invite_service.api.params import UNREADABLE_BODY, RowIdPath
from invite_service.audiences import contacts_service
from invite_service.audiences.history import history
from invite_service.audiences.schemas import ContactDetail, ContactOut, ContactUpdate, HistoryItem
from invite_service.kit.inputs import Text
from invite_service.kit.pagination import MAX_LIMIT, Page
from invite_service.models import Contact
from invite_service.models.enums import Platform

router = APIRouter(prefix="/contacts", tags=["contacts"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[Text | None, Query(max_length=1000)]


async def owned_contact(contact_id: RowIdPath, user: CurrentUser, session: SessionDep) -> Contact:
    """Resolved before the body is read: another user's contact is a 404 whatever the body holds."""
    return await contacts_service.owned_contact(session, user, contact_id)


OwnedContact = Annotated[Contact, Depends(owned_contact)]


@router.get("", response_model=Page[ContactOut])
async def list_contacts(
    user: CurrentUser,
    session: SessionDep,
    platform: Platform | None = None,
    q: Annotated[
        Text | None, Query(max_length=200, description="part of a username, name, phone or user id")
    ] = None,
    tag: Annotated[Text | None, Query(max_length=64, description="contacts with this tag")] = None,
    audience_id: Annotated[uuid.UUID | None, Query(description="members of this audience")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[ContactOut]:
    return await contacts_service.list_contacts(
        session,
        user,
        cursor,
        limit,
        platform=platform.value if platform else None,
        q=q or None,
        tag=tag.strip().lower() if tag else None,
        audience_id=audience_id,
    )


@router.get("/{contact_id:int}", response_model=ContactDetail)
async def get_contact(contact_id: RowIdPath, user: CurrentUser, session: SessionDep) -> ContactDetail:
    return await contacts_service.detail(session, user, contact_id)


@router.patch("/{contact_id:int}", response_model=ContactDetail, responses=UNREADABLE_BODY)
async def update_contact(
    contact: OwnedContact, body: ContactUpdate, user: CurrentUser, session: SessionDep
) -> ContactDetail:
    return await contacts_service.update(session, user, contact.id, body)


@router.get("/{contact_id:int}/history", response_model=Page[HistoryItem])
async def contact_history(
    contact_id: RowIdPath, user: CurrentUser, session: SessionDep, cursor: Cursor = None, limit: Limit = 50
) -> Page[HistoryItem]:
    """Every step the engine took for this person, in every task, newest first."""
    return await history(session, user, contact_id, cursor, limit)
