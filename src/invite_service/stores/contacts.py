"""All SQL of contacts and their tags; every query is scoped by the owning user."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, and_, delete, exists, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.kit.pagination import SortSpec, keyset_page
from invite_service.kit.search import ESCAPE, contains_pattern
from invite_service.models import (
    Audience,
    AudienceMember,
    Contact,
    ContactTag,
    ExecutionLog,
    InviteTarget,
    InviteTask,
    Suppression,
)
from invite_service.models.enums import TargetKind
from invite_service.stores.suppressions import applies_to

NEWEST = SortSpec("created_at", True)
PAGE_COLUMNS = [Contact.created_at, Contact.id]
_IN_CHUNK = 400  # SQLite: rows of two values a multi-row INSERT, under its bound-parameter limit
HISTORY_SORT = SortSpec("at", True)
HISTORY_COLUMNS = [ExecutionLog.at, ExecutionLog.id]


async def get(session: AsyncSession, user_id: str, contact_id: int) -> Contact | None:
    stmt = select(Contact).where(Contact.id == contact_id, Contact.user_id == user_id)
    return (await session.scalars(stmt)).one_or_none()


async def owned_ids(session: AsyncSession, user_id: str, platform: str, ids: Sequence[int]) -> set[int]:
    """Those of ``ids`` that are the user's contacts on ``platform``."""
    if not ids:
        return set()
    stmt = select(Contact.id).where(
        Contact.user_id == user_id, Contact.platform == platform, Contact.id.in_(set(ids))
    )
    return set((await session.scalars(stmt)).all())


async def find_matches(
    session: AsyncSession,
    user_id: str,
    platform: str,
    *,
    usernames: set[str],
    user_ids: set[str],
    phones: set[str],
) -> list[Contact]:
    """The contacts sharing any of the identities (the merge rule), oldest first."""
    shared: list[ColumnElement[bool]] = []
    if usernames:
        shared.append(Contact.username.in_(usernames))
    if user_ids:
        shared.append(Contact.platform_user_id.in_(user_ids))
    if phones:
        shared.append(Contact.phone.in_(phones))
    if not shared:
        return []
    stmt = (
        select(Contact)
        .where(Contact.user_id == user_id, Contact.platform == platform, or_(*shared))
        .order_by(Contact.id)
    )
    return list((await session.scalars(stmt)).all())


async def add(session: AsyncSession, contact: Contact) -> Contact:
    session.add(contact)
    await session.flush()
    return contact


async def tags_of(session: AsyncSession, contact_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each contact's tags, sorted (the contacts are the caller's own: it loaded them scoped)."""
    out: dict[int, list[str]] = {i: [] for i in contact_ids}
    if not contact_ids:
        return out
    stmt = (
        select(ContactTag.contact_id, ContactTag.tag)
        .where(ContactTag.contact_id.in_(set(contact_ids)))
        .order_by(ContactTag.contact_id, ContactTag.tag)
    )
    for contact_id, tag in (await session.execute(stmt)).all():
        out[contact_id].append(tag)
    return out


async def add_tags(session: AsyncSession, contact_id: int, tags: Sequence[str]) -> None:
    have = set((await tags_of(session, [contact_id]))[contact_id])
    session.add_all(ContactTag(contact_id=contact_id, tag=t) for t in dict.fromkeys(tags) if t not in have)
    await session.flush()


def _insert_tags(session: AsyncSession) -> Any:
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(ContactTag)


async def add_tag_rows(session: AsyncSession, pairs: Sequence[tuple[int, str]]) -> None:
    """Tag contacts (the caller's own); a tag a contact has already is left as it is."""
    rows = [{"contact_id": c, "tag": t} for c, t in dict.fromkeys(pairs)]
    for start in range(0, len(rows), _IN_CHUNK):
        stmt = _insert_tags(session).values(rows[start : start + _IN_CHUNK])
        await session.execute(stmt.on_conflict_do_nothing(index_elements=["contact_id", "tag"]))


async def set_tags(session: AsyncSession, contact_id: int, tags: Sequence[str]) -> None:
    await session.execute(
        delete(ContactTag).where(ContactTag.contact_id == contact_id, ContactTag.tag.not_in(set(tags)))
    )
    await add_tags(session, contact_id, tags)


def _filtered(
    user_id: str,
    *,
    platform: str | None = None,
    q: str | None = None,
    tag: str | None = None,
    field: str | None = None,
    value: str | None = None,
    audience_id: uuid.UUID | None = None,
) -> Select[Any]:
    stmt = select(Contact).where(Contact.user_id == user_id)
    if platform:
        stmt = stmt.where(Contact.platform == platform)
    if audience_id is not None:
        stmt = stmt.where(
            exists().where(AudienceMember.contact_id == Contact.id, AudienceMember.audience_id == audience_id)
        )
    if tag:
        stmt = stmt.where(exists().where(ContactTag.contact_id == Contact.id, ContactTag.tag == tag))
    if field:
        stmt = stmt.where(Contact.fields[field].as_string() == (value or ""))
    if q:
        pattern = contains_pattern(q)
        columns = [
            Contact.username,
            Contact.platform_user_id,
            Contact.phone,
            Contact.first_name,
            Contact.last_name,
            Contact.key,
        ]
        stmt = stmt.where(or_(*(func.lower(c).like(pattern, escape=ESCAPE) for c in columns)))
    return stmt


async def page(
    session: AsyncSession, user_id: str, cursor: str | None, limit: int, **filters: Any
) -> tuple[list[Contact], int]:
    """A page of contacts, newest first, and how many match in all."""
    stmt = _filtered(user_id, **filters)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = (await session.scalars(keyset_page(stmt, PAGE_COLUMNS, NEWEST, cursor, limit))).all()
    return list(rows), int(total or 0)


async def export_page(
    session: AsyncSession, user_id: str, audience_id: uuid.UUID, after: int, limit: int
) -> list[Contact]:
    stmt = (
        _filtered(user_id, audience_id=audience_id)
        .where(Contact.id > after)
        .order_by(Contact.id)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def audiences_of(session: AsyncSession, user_id: str, contact_id: int) -> list[tuple[uuid.UUID, str]]:
    stmt = (
        select(Audience.id, Audience.name)
        .join(AudienceMember, AudienceMember.audience_id == Audience.id)
        .where(Audience.user_id == user_id, AudienceMember.contact_id == contact_id)
        .order_by(Audience.name)
    )
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]


async def suppression_of(session: AsyncSession, contact: Contact) -> Suppression | None:
    """The oldest opt-out entry of the user matching any of the contact's identities on its platform."""
    pairs = [
        ("username", contact.username),
        ("user_id", contact.platform_user_id),
        ("phone", contact.phone),
    ]
    shared = [(Suppression.kind == kind) & (Suppression.key == key) for kind, key in pairs if key is not None]
    stmt = (
        select(Suppression)
        .where(Suppression.user_id == contact.user_id, applies_to(contact.platform), or_(*shared))
        .order_by(Suppression.id)
        .limit(1)
    )
    return (await session.scalars(stmt)).first()


def _identities(contact: Contact) -> list[tuple[TargetKind, str]]:
    pairs = [
        (TargetKind.USERNAME, contact.username),
        (TargetKind.USER_ID, contact.platform_user_id),
        (TargetKind.PHONE, contact.phone),
    ]
    return [(kind, key) for kind, key in pairs if key is not None]


async def history_page(
    session: AsyncSession, contact: Contact, cursor: str | None, limit: int
) -> tuple[list[tuple[ExecutionLog, str]], int]:
    """Every execution-log row of the user's targets that are this contact, newest first, with the
    task's name: targets made from it, and targets keyed by one of its identities on its platform."""
    same_person = [
        (InviteTarget.kind == kind) & (InviteTarget.key == key) for kind, key in _identities(contact)
    ]
    targets = (
        select(InviteTarget.id)
        .join(InviteTask, InviteTask.id == InviteTarget.task_id)
        .where(
            InviteTarget.user_id == contact.user_id,
            or_(
                InviteTarget.contact_id == contact.id,
                and_(InviteTask.platform == contact.platform, or_(*same_person)),
            ),
        )
    )
    stmt = (
        select(ExecutionLog, InviteTask.name)
        .join(InviteTask, InviteTask.id == ExecutionLog.task_id)
        .where(
            ExecutionLog.user_id == contact.user_id,
            InviteTask.user_id == contact.user_id,
            ExecutionLog.target_id.in_(targets),
        )
    )
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    # keyset_page takes a one-entity Select; this one has two columns (the log and the task's name).
    paged = keyset_page(cast("Select[Any]", stmt), HISTORY_COLUMNS, HISTORY_SORT, cursor, limit)
    rows = (await session.execute(paged)).all()
    return [(row[0], row[1]) for row in rows], int(total or 0)
