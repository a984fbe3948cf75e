"""Contacts and audiences written straight to the database for the policy, materialise and preview
tests (the audiences API is another branch's; these rows are what it writes)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from invite_service.db import Database
from invite_service.kit.clock import utcnow
from invite_service.models import Audience, AudienceMember, Contact, ContactPolicy, ContactTag, InviteTarget
from invite_service.models.enums import TargetKind


async def audience(
    db: Database,
    user: str,
    names: Iterable[str],
    *,
    platform: str = "sandbox",
    tags: Mapping[str, list[str]] | None = None,
    consent: Iterable[str] = (),
    contacts: Mapping[str, int] | None = None,
) -> tuple[uuid.UUID, dict[str, int]]:
    """An audience of ``names`` (usernames); a name already a contact of the user (``contacts``) is reused.
    Returns the audience id and every member's contact id by name."""
    now = utcnow()
    consented = set(consent)
    ids = dict(contacts or {})
    async with db.session() as s:
        aud = Audience(id=uuid.uuid4(), user_id=user, platform=platform, name=f"aud-{uuid.uuid4().hex[:8]}")
        s.add(aud)
        for name in names:
            if name not in ids:
                contact = Contact(
                    user_id=user,
                    platform=platform,
                    kind=TargetKind.USERNAME,
                    key=name,
                    username=name,
                    first_name=name.title(),
                    fields={"city": "Tver"},
                    consent_source="form" if name in consented else None,
                    consent_at=now if name in consented else None,
                )
                s.add(contact)
                await s.flush()
                ids[name] = contact.id
                for tag in (tags or {}).get(name, []):
                    s.add(ContactTag(contact_id=contact.id, tag=tag))
            s.add(AudienceMember(audience_id=aud.id, contact_id=ids[name], added_at=now))
    return aud.id, ids


async def set_policy(
    db: Database, user: str, message: int, invite: int | None, consent: bool = False
) -> None:
    async with db.session() as s:
        await s.merge(
            ContactPolicy(
                user_id=user,
                message_cooldown_days=message,
                invite_cooldown_days=invite,
                require_consent=consent,
            )
        )


async def targets_of(db: Database, task_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    async with db.session() as s:
        rows = await s.scalars(select(InviteTarget).where(InviteTarget.task_id == task_id))
        return {
            str(t.key): {"status": str(t.status), "error_code": t.error_code, "contact_id": t.contact_id,
                         "extra": t.extra, "source": t.source}
            for t in rows
        }  # fmt: skip


async def count_targets(db: Database, task_id: uuid.UUID) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).where(InviteTarget.task_id == task_id)) or 0)


def at(value: datetime) -> str:
    return value.isoformat()
