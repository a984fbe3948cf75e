"""Audience use cases: create, list, read, rename, delete (refused while a live task uses it), and
removing members. Adding members is ``contacts_service.add_to_audience`` (it creates contacts)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.audiences.schemas import (
    AudienceIn,
    AudienceOut,
    AudienceUpdate,
    RemoveContactsIn,
    RemoveContactsOut,
)
from invite_service.errors import Conflict, NotFound
from invite_service.kit.pagination import Page, split_page
from invite_service.models import Audience
from invite_service.observability import audit
from invite_service.stores import audiences as repo


class AudienceNotFound(NotFound):
    code, title = "audience_not_found", "Audience not found"


class AudienceNameTaken(Conflict):
    code, title = "audience_name_taken", "An audience of that name exists"


class AudienceInUse(Conflict):
    code, title = "audience_in_use", "The audience is used by a task"


def to_out(audience: Audience, contacts: int) -> AudienceOut:
    return AudienceOut(
        id=audience.id,
        platform=audience.platform,
        name=audience.name,
        description=audience.description,
        contacts=contacts,
        created_at=audience.created_at,
        updated_at=audience.updated_at,
    )


async def owned(session: AsyncSession, user_id: str, audience_id: uuid.UUID) -> Audience:
    """The user's audience; another user's is a 404 like a missing one."""
    audience = await repo.get(session, user_id, audience_id)
    if audience is None:
        raise AudienceNotFound()
    return audience


async def _out(session: AsyncSession, audience: Audience) -> AudienceOut:
    counts = await repo.member_counts(session, [audience.id])
    return to_out(audience, counts[audience.id])


async def create(session: AsyncSession, user_id: str, body: AudienceIn) -> AudienceOut:
    if await repo.name_taken(session, user_id, body.name):
        raise AudienceNameTaken(f"You already have an audience named {body.name!r}.")
    audience = await repo.add(
        session,
        Audience(user_id=user_id, platform=body.platform.value, name=body.name, description=body.description),
    )
    await audit.record(session, user_id, "audience.create", "audience", audience.id)
    return to_out(audience, 0)


async def list_audiences(
    session: AsyncSession, user_id: str, platform: str | None, cursor: str | None, limit: int
) -> Page[AudienceOut]:
    rows, total = await repo.page(session, user_id, platform, cursor, limit)
    items, next_cursor = split_page(rows, limit, repo.NEWEST, lambda a: (a.created_at, a.id))
    counts = await repo.member_counts(session, [a.id for a in items])
    return Page(items=[to_out(a, counts[a.id]) for a in items], next_cursor=next_cursor, total=total)


async def get(session: AsyncSession, user_id: str, audience_id: uuid.UUID) -> AudienceOut:
    return await _out(session, await owned(session, user_id, audience_id))


async def update(
    session: AsyncSession, user_id: str, audience_id: uuid.UUID, body: AudienceUpdate
) -> AudienceOut:
    audience = await owned(session, user_id, audience_id)
    given = body.model_fields_set
    if "name" in given and body.name is not None and body.name != audience.name:
        if await repo.name_taken(session, user_id, body.name, but=audience.id):
            raise AudienceNameTaken(f"You already have an audience named {body.name!r}.")
        audience.name = body.name
    if "description" in given:
        audience.description = body.description
    await session.flush()
    await audit.record(session, user_id, "audience.update", "audience", audience.id)
    return await _out(session, audience)


async def delete(session: AsyncSession, user_id: str, audience_id: uuid.UUID) -> None:
    audience = await owned(session, user_id, audience_id)
    tasks = await repo.in_use_by(session, user_id, audience.id)
    if tasks:
        shown = ", ".join(repr(t) for t in tasks[:5])
        raise AudienceInUse(
            f"The audience is used by {len(tasks)} task(s) not finished yet ({shown}); "
            "remove it from them or finish them first."
        )
    await repo.delete_audience(session, audience)
    await audit.record(session, user_id, "audience.delete", "audience", audience_id)


async def remove_contacts(
    session: AsyncSession, user_id: str, audience_id: uuid.UUID, body: RemoveContactsIn
) -> RemoveContactsOut:
    audience = await owned(session, user_id, audience_id)
    removed = await repo.remove_members(session, audience.id, body.contact_ids)
    await audit.record(
        session, user_id, "audience.remove_contacts", "audience", audience.id, {"removed": removed}
    )
    return RemoveContactsOut(removed=removed)
