"""Contact use cases: add rows to an audience (creating or merging contacts), list, read, edit.

A row's identities are normalized exactly like a target's (``targets``' ``TargetIn`` and
``models.identity``), so a contact materialises into the target the same row would have made.
Merge rule: a row sharing any of username / user id / phone with a contact of the same user and
platform is that person; it fills the contact's missing identities, names, fields and consent and
adds its tags, instead of creating a second contact.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.audiences.merge import merge_rows
from invite_service.audiences.schemas import (
    AddContactsIn,
    AddContactsOut,
    AudienceRef,
    Consent,
    ContactDetail,
    ContactIn,
    ContactOut,
    ContactUpdate,
    RejectedRow,
    SuppressionRef,
)
from invite_service.audiences.service import owned
from invite_service.config import Settings
from invite_service.errors import NotFound
from invite_service.kit.pagination import Page, split_page
from invite_service.models import Contact
from invite_service.models.identity import Identity, NormalizeError
from invite_service.observability import audit
from invite_service.stores import audiences as audience_store
from invite_service.stores import contacts as repo
from invite_service.targets.service import identify


class ContactNotFound(NotFound):
    code, title = "contact_not_found", "Contact not found"


def to_out(contact: Contact, tags: list[str]) -> ContactOut:
    return ContactOut(**_out_fields(contact, tags))


def _out_fields(contact: Contact, tags: list[str]) -> dict[str, Any]:
    consent = None
    if contact.consent_at or contact.consent_source or contact.consent_note:
        consent = Consent(source=contact.consent_source, at=contact.consent_at, note=contact.consent_note)
    return {
        "id": contact.id,
        "platform": contact.platform,
        "kind": contact.kind,
        "key": contact.key,
        "username": contact.username,
        "user_id": contact.platform_user_id,
        "phone": contact.phone,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "fields": contact.fields,
        "tags": tags,
        "consent": consent,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
    }


def _identity_error(exc: NormalizeError, index: int) -> RejectedRow:
    field, _, message = str(exc).partition(": ")
    if message and field in {"username", "user_id", "phone"}:
        return RejectedRow(index=index, loc=["contacts", index, field], msg=message)
    return RejectedRow(index=index, loc=["contacts", index], msg=str(exc))


async def add_to_audience(
    session: AsyncSession, config: Settings, user_id: str, audience_id: uuid.UUID, body: AddContactsIn
) -> AddContactsOut:
    """Add rows (new or merged contacts) and existing contacts to the audience; a bad row is rejected
    with its field errors and writes nothing."""
    audience = await owned(session, user_id, audience_id)
    rejected: list[RejectedRow] = []
    valid: list[tuple[Identity, ContactIn]] = []
    for index, raw in enumerate(body.contacts):
        try:
            row = ContactIn.model_validate(raw)
            ident = identify(row, config)  # the very normalization a target row gets
        except ValidationError as exc:
            rejected += [
                RejectedRow(index=index, loc=["contacts", index, *e["loc"]], msg=e["msg"])
                for e in exc.errors()
            ]
            continue
        except NormalizeError as exc:
            rejected.append(_identity_error(exc, index))
            continue
        valid.append((ident, row))
    merged = await merge_rows(session, user_id, audience.platform, valid)
    member_ids = list(merged.contact_ids)
    ours = await repo.owned_ids(session, user_id, audience.platform, body.contact_ids)
    for index, contact_id in enumerate(body.contact_ids):
        if contact_id in ours:
            member_ids.append(contact_id)
        else:
            rejected.append(
                RejectedRow(
                    index=index,
                    loc=["contact_ids", index],
                    msg=f"no contact {contact_id} on {audience.platform}",
                )
            )
    added = await audience_store.add_members(session, audience.id, member_ids)
    await audit.record(
        session,
        user_id,
        "audience.add_contacts",
        "audience",
        audience.id,
        {"created": merged.created, "merged": merged.merged, "added": added, "rejected": len(rejected)},
    )
    return AddContactsOut(created=merged.created, merged=merged.merged, added=added, rejected=rejected)


async def owned_contact(session: AsyncSession, user_id: str, contact_id: int) -> Contact:
    contact = await repo.get(session, user_id, contact_id)
    if contact is None:
        raise ContactNotFound()
    return contact


async def list_contacts(
    session: AsyncSession, user_id: str, cursor: str | None, limit: int, **filters: Any
) -> Page[ContactOut]:
    rows, total = await repo.page(session, user_id, cursor, limit, **filters)
    items, next_cursor = split_page(rows, limit, repo.NEWEST, lambda c: (c.created_at, c.id))
    tags = await repo.tags_of(session, [c.id for c in items])
    return Page(items=[to_out(c, tags[c.id]) for c in items], next_cursor=next_cursor, total=total)


async def audience_contacts(
    session: AsyncSession,
    user_id: str,
    audience_id: uuid.UUID,
    cursor: str | None,
    limit: int,
    **filters: Any,
) -> Page[ContactOut]:
    audience = await owned(session, user_id, audience_id)
    return await list_contacts(session, user_id, cursor, limit, audience_id=audience.id, **filters)


async def detail(session: AsyncSession, user_id: str, contact_id: int) -> ContactDetail:
    contact = await owned_contact(session, user_id, contact_id)
    tags = (await repo.tags_of(session, [contact.id]))[contact.id]
    audiences = [AudienceRef(id=i, name=n) for i, n in await repo.audiences_of(session, user_id, contact.id)]
    entry = await repo.suppression_of(session, contact)
    suppression = (
        None
        if entry is None
        else SuppressionRef(reason=entry.reason, source=entry.source, created_at=entry.created_at)
    )
    return ContactDetail(**_out_fields(contact, tags), audiences=audiences, suppression=suppression)


async def update(session: AsyncSession, user_id: str, contact_id: int, body: ContactUpdate) -> ContactDetail:
    contact = await owned_contact(session, user_id, contact_id)
    given = body.model_fields_set
    for name in ("first_name", "last_name", "consent_source", "consent_at", "consent_note"):
        if name in given:
            setattr(contact, name, getattr(body, name))
    if "fields" in given:
        contact.fields = dict(body.fields or {})
    await session.flush()
    if "tags" in given:
        await repo.set_tags(session, contact.id, body.tags or [])
    await audit.record(session, user_id, "contact.update", "contact", contact.id)
    return await detail(session, user_id, contact.id)
