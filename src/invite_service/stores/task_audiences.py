"""All SQL of a task's audiences: the selection rows, who it draws (one predicate shared by materialise
and the preview, so the preview counts what materialising inserts), and the set-based insert."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from invite_service.models import (
    Audience,
    AudienceMember,
    Contact,
    ContactTag,
    InviteTarget,
    Suppression,
    TaskAudience,
)
from invite_service.models.enums import TargetKind, TargetStatus
from invite_service.stores import contact_marks
from invite_service.stores import counters as counter_store
from invite_service.stores.suppressions import ALL_PLATFORMS

INCLUDE, EXCLUDE = "include", "exclude"


@dataclass(frozen=True)
class Draw:
    """Who a task draws: contacts of ``user_id`` on ``platform`` in an ``include`` audience, in no
    ``exclude`` audience and with no tag of ``exclude_tags``."""

    user_id: str
    platform: str
    include: Sequence[uuid.UUID]
    exclude: Sequence[uuid.UUID] = ()
    exclude_tags: Sequence[str] = ()


@dataclass
class Selection:
    include: list[uuid.UUID] = field(default_factory=list)
    exclude: list[uuid.UUID] = field(default_factory=list)


# -- the selection rows --


async def selections(session: AsyncSession, task_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Selection]:
    out: dict[uuid.UUID, Selection] = defaultdict(Selection)
    if not task_ids:
        return out
    stmt = select(TaskAudience.task_id, TaskAudience.audience_id, TaskAudience.mode).where(
        TaskAudience.task_id.in_(task_ids)
    )
    for task_id, audience_id, mode in await session.execute(stmt.order_by(TaskAudience.audience_id)):
        getattr(out[task_id], mode).append(audience_id)
    return out


async def set_selection(
    session: AsyncSession, task_id: uuid.UUID, include: Sequence[uuid.UUID], exclude: Sequence[uuid.UUID]
) -> None:
    await session.execute(delete(TaskAudience).where(TaskAudience.task_id == task_id))
    rows = [{"task_id": task_id, "audience_id": a, "mode": INCLUDE} for a in include]
    rows += [{"task_id": task_id, "audience_id": a, "mode": EXCLUDE} for a in exclude]
    if rows:
        await session.execute(insert(TaskAudience), rows)


async def audience_platforms(
    session: AsyncSession, user_id: str, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The platform of each of ``ids`` that is the user's (another user's audience is not there)."""
    if not ids:
        return {}
    stmt = select(Audience.id, Audience.platform).where(Audience.user_id == user_id, Audience.id.in_(ids))
    return {row[0]: row[1] for row in await session.execute(stmt)}


# -- who a task draws --


def _member_of(ids: Sequence[uuid.UUID]) -> ColumnElement[bool]:
    m = aliased(AudienceMember)
    return exists(select(m.contact_id).where(m.contact_id == Contact.id, m.audience_id.in_(ids)))


def _tagged(tags: Sequence[str]) -> ColumnElement[bool]:
    return exists(
        select(ContactTag.contact_id).where(ContactTag.contact_id == Contact.id, ContactTag.tag.in_(tags))
    )


def _base(draw: Draw) -> list[ColumnElement[bool]]:
    return [Contact.user_id == draw.user_id, Contact.platform == draw.platform, _member_of(draw.include)]


def _excluded_by_audience(draw: Draw) -> ColumnElement[bool]:
    return _member_of(draw.exclude) if draw.exclude else literal(False)


def _excluded_by_tag(draw: Draw) -> ColumnElement[bool]:
    return _tagged(draw.exclude_tags) if draw.exclude_tags else literal(False)


def _not_in_task(task_id: uuid.UUID | None) -> ColumnElement[bool]:
    if task_id is None:
        return literal(True)
    t = aliased(InviteTarget)
    return ~exists(select(t.id).where(t.task_id == task_id, t.kind == Contact.kind, t.key == Contact.key))


def drawn(draw: Draw) -> list[ColumnElement[bool]]:
    """The predicate materialising inserts with (the preview's ``targets`` adds only "not in the task")."""
    return [*_base(draw), ~_excluded_by_audience(draw), ~_excluded_by_tag(draw)]


def _insert(session: AsyncSession) -> Any:
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(InviteTarget)


async def materialise(session: AsyncSession, task_id: uuid.UUID, draw: Draw, now: datetime) -> int:
    """Insert the drawn contacts as pending targets in one INSERT … SELECT (a person already in the task
    stays as they are), and add what was inserted to the task's counters, in the caller's transaction."""
    src = select(
        literal(task_id, type_=InviteTarget.task_id.type),
        Contact.user_id,
        Contact.kind,
        Contact.key,
        Contact.username,
        Contact.platform_user_id,
        Contact.phone,
        Contact.first_name,
        Contact.last_name,
        Contact.fields,
        literal("audience"),
        literal(TargetStatus.PENDING.value),
        literal(0),
        Contact.id,
        literal(now, type_=InviteTarget.created_at.type),
        literal(now, type_=InviteTarget.updated_at.type),
    ).where(*drawn(draw))
    cols = [
        "task_id", "user_id", "kind", "key", "username", "platform_user_id", "phone", "first_name",
        "last_name", "extra", "source", "status", "attempts", "contact_id", "created_at", "updated_at",
    ]  # fmt: skip
    stmt = (
        _insert(session)
        .from_select(cols, src)
        .on_conflict_do_nothing(index_elements=["task_id", "kind", "key"])
        .returning(InviteTarget.kind)
    )
    kinds: Counter[str] = Counter()
    if session.get_bind().dialect.name == "postgresql":
        # Counted in the database: a million inserted rows never travel back to Python.
        ins = stmt.cte("inserted")
        counted = select(ins.c.kind, func.count()).group_by(ins.c.kind)
        for kind, n in await session.execute(counted):
            kinds[str(kind)] += int(n)
    else:
        for (kind,) in await session.execute(stmt):
            kinds[str(kind)] += 1
    inserted = sum(kinds.values())
    if inserted:
        await counter_store.apply_counter_deltas(session, task_id, {TargetStatus.PENDING: inserted}, kinds)
    return inserted


# -- the preview's counts --


def _suppressed() -> ColumnElement[bool]:
    identity = or_(
        and_(Suppression.kind == TargetKind.USERNAME.value, Suppression.key == Contact.username),
        and_(Suppression.kind == TargetKind.USER_ID.value, Suppression.key == Contact.platform_user_id),
        and_(Suppression.kind == TargetKind.PHONE.value, Suppression.key == Contact.phone),
        and_(Suppression.kind == type_coerce(Contact.kind, String), Suppression.key == Contact.key),
    )
    platform = or_(Suppression.platform == Contact.platform, Suppression.platform == ALL_PLATFORMS)
    return exists(select(Suppression.id).where(Suppression.user_id == Contact.user_id, platform, identity))


@dataclass(frozen=True)
class Counts:
    contacts: int
    excluded_by_audience: int
    excluded_by_tag: int
    targets: int
    suppressed: int
    contacted_recently: int
    no_consent: int


def _n(cond: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


async def counts(
    session: AsyncSession,
    draw: Draw,
    *,
    task_id: uuid.UUID | None,
    channel: str,
    cooldown_days: int | None,
    require_consent: bool,
    now: datetime,
) -> Counts:
    """One pass over the included contacts; each count is of distinct contacts."""
    by_audience = _excluded_by_audience(draw)
    by_tag = and_(~by_audience, _excluded_by_tag(draw))
    target = and_(~by_audience, ~_excluded_by_tag(draw), _not_in_task(task_id))
    person = type_coerce(Contact.kind, String) + ":" + Contact.key
    held = contact_marks.held(draw.user_id, draw.platform, channel, person, now, cooldown_days)
    no_consent = Contact.consent_at.is_(None) if require_consent else literal(False)
    stmt = select(
        func.count(),
        _n(by_audience),
        _n(by_tag),
        _n(target),
        _n(and_(target, _suppressed())),
        _n(and_(target, held)),
        _n(and_(target, no_consent)),
    ).where(*_base(draw))
    row = (await session.execute(stmt)).one()
    return Counts(*(int(v) for v in row))
