"""An audience's contacts as CSV: identities, names, tags, consent, then one column a custom field.

Cells are neutralised like every CSV download (``kit.tabular.csv_out``). The field columns are the
union over the audience, so a first pass reads the contacts' field names and a second writes the rows;
each page is read in a short session of its own (the request's is closed before the body streams).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from invite_service.db import Database
from invite_service.kit.tabular import csv_out
from invite_service.models import Contact
from invite_service.stores import contacts as repo

COLUMNS = [
    "platform",
    "kind",
    "username",
    "user_id",
    "phone",
    "first_name",
    "last_name",
    "tags",
    "consent_source",
    "consent_at",
    "consent_note",
    "created_at",
]


Row = tuple[Contact, list[str]]  # a contact and its tags


async def _pages(database: Database, user_id: str, audience_id: uuid.UUID) -> AsyncIterator[list[Row]]:
    after = 0
    while True:
        async with database.session() as session:
            page = await repo.export_page(session, user_id, audience_id, after, csv_out.PAGE)
            tags = await repo.tags_of(session, [c.id for c in page])
        if not page:
            return
        yield [(c, tags[c.id]) for c in page]
        after = page[-1].id


def _line(contact: Contact, tags: list[str], fields: list[str]) -> list[Any]:
    values: list[Any] = [
        contact.platform,
        contact.kind.value,
        contact.username or "",
        contact.platform_user_id or "",
        contact.phone or "",
        contact.first_name or "",
        contact.last_name or "",
        ",".join(tags),
        contact.consent_source or "",
        contact.consent_at.isoformat() if contact.consent_at else "",
        contact.consent_note or "",
        contact.created_at.isoformat(),
    ]
    values += [contact.fields.get(name, "") for name in fields]
    return [csv_out.cell(v) if v is not None else "" for v in values]


async def export_csv(database: Database, user_id: str, audience_id: uuid.UUID) -> AsyncIterator[bytes]:
    """The audience's contacts (the caller checked the audience is the user's) in id order."""
    names: dict[str, None] = {}
    async for page in _pages(database, user_id, audience_id):
        for contact, _ in page:
            names.update(dict.fromkeys(contact.fields))
    fields = [n for n in names if n not in COLUMNS]
    yield (csv_out.BOM + csv_out.header([*COLUMNS, *fields])).encode()
    async for page in _pages(database, user_id, audience_id):
        yield csv_out.csv_lines([_line(c, tags, fields) for c, tags in page]).encode()
