"""Rows into contacts, a chunk at a time: the merge rule with a few queries a chunk, not a few a row.

A row sharing any of username / user id / phone with a contact of the same user and platform is that
person (the oldest such contact when several match): it fills what the contact lacks and adds its tags.
Rows of one request see each other, so the same person twice in a request is one contact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.audiences.schemas import ContactIn
from invite_service.models import Contact
from invite_service.models.identity import Identity
from invite_service.stores import contacts as repo

CHUNK = 300  # rows a round trip: three identity lists stay under SQLite's bound-parameter limit


@dataclass
class Merged:
    contact_ids: list[int] = field(default_factory=list)  # one a row, in row order
    created: int = 0
    merged: int = 0


class _Known:
    """The contacts of a chunk by each identity; the first registered (the oldest) wins."""

    def __init__(self, contacts: Sequence[Contact]) -> None:
        self.by: dict[str, dict[str, Contact]] = {"username": {}, "user_id": {}, "phone": {}}
        for contact in contacts:
            self.put(contact)

    def put(self, contact: Contact) -> None:
        for name, value in (
            ("username", contact.username),
            ("user_id", contact.platform_user_id),
            ("phone", contact.phone),
        ):
            if value is not None:
                self.by[name].setdefault(value, contact)

    def find(self, ident: Identity) -> Contact | None:
        found = [
            self.by[name].get(value)
            for name, value in (
                ("username", ident.username),
                ("user_id", ident.platform_user_id),
                ("phone", ident.phone),
            )
            if value is not None
        ]
        matches = [c for c in found if c is not None]
        # The oldest: existing contacts have ids; a contact new in this request has none yet.
        return min(matches, key=lambda c: c.id or 2**63) if matches else None


def _fill(contact: Contact, ident: Identity, row: ContactIn) -> None:
    """Fill what the contact lacks from a row of the same person; what it has is kept."""
    contact.username = contact.username or ident.username
    contact.platform_user_id = contact.platform_user_id or ident.platform_user_id
    contact.phone = contact.phone or ident.phone
    contact.first_name = contact.first_name or row.first_name
    contact.last_name = contact.last_name or row.last_name
    missing = {k: v for k, v in row.fields.items() if k not in contact.fields}
    if missing:
        contact.fields = {**contact.fields, **missing}  # a new dict: JSON columns track assignment only
    if contact.consent_at is None and row.consent_at is not None:
        contact.consent_at = row.consent_at
        contact.consent_source = row.consent_source
        contact.consent_note = row.consent_note


def _new(user_id: str, platform: str, ident: Identity, row: ContactIn) -> Contact:
    return Contact(
        user_id=user_id,
        platform=platform,
        kind=ident.kind,
        key=ident.key,
        username=ident.username,
        platform_user_id=ident.platform_user_id,
        phone=ident.phone,
        first_name=row.first_name,
        last_name=row.last_name,
        fields=dict(row.fields),
        consent_source=row.consent_source,
        consent_at=row.consent_at,
        consent_note=row.consent_note,
    )


async def merge_rows(
    session: AsyncSession, user_id: str, platform: str, rows: Sequence[tuple[Identity, ContactIn]]
) -> Merged:
    """Create or merge a contact for each (valid, normalized) row; add the rows' tags."""
    out = Merged()
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        existing = await repo.find_matches(
            session,
            user_id,
            platform,
            usernames={i.username for i, _ in chunk if i.username},
            user_ids={i.platform_user_id for i, _ in chunk if i.platform_user_id},
            phones={i.phone for i, _ in chunk if i.phone},
        )
        known = _Known(existing)
        touched: list[tuple[Contact, list[str]]] = []
        for ident, row in chunk:
            contact = known.find(ident)
            if contact is None:
                contact = _new(user_id, platform, ident, row)
                session.add(contact)
                out.created += 1
            else:
                _fill(contact, ident, row)
                out.merged += 1
            known.put(contact)
            touched.append((contact, row.tags))
        await session.flush()  # new contacts get their ids
        await repo.add_tag_rows(session, [(c.id, tag) for c, tags in touched for tag in tags])
        out.contact_ids += [c.id for c, _ in touched]
    return out
