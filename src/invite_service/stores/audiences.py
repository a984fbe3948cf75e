"""All SQL of audiences, their members and the tasks that use them; scoped by the owning user."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.kit.clock import utcnow
from invite_service.kit.pagination import SortSpec, keyset_page
from invite_service.models import Audience, AudienceMember, InviteTask, TaskAudience
from invite_service.models.enums import TaskStatus

NEWEST = SortSpec("created_at", True)
PAGE_COLUMNS = [Audience.created_at, Audience.id]
# A task in one of these still reads its audiences (to start, resume or materialise targets).
LIVE_TASK_STATUSES = (TaskStatus.DRAFT, TaskStatus.SCHEDULED, TaskStatus.RUNNING, TaskStatus.PAUSED)
_IN_CHUNK = 1000  # SQLite: rows a multi-row INSERT, under its bound-parameter limit


async def get(session: AsyncSession, user_id: str, audience_id: uuid.UUID) -> Audience | None:
    stmt = select(Audience).where(Audience.id == audience_id, Audience.user_id == user_id)
    return (await session.scalars(stmt)).one_or_none()


async def name_taken(session: AsyncSession, user_id: str, name: str, but: uuid.UUID | None = None) -> bool:
    stmt = select(Audience.id).where(Audience.user_id == user_id, Audience.name == name)
    if but is not None:
        stmt = stmt.where(Audience.id != but)
    return (await session.scalars(stmt.limit(1))).first() is not None


async def add(session: AsyncSession, audience: Audience) -> Audience:
    session.add(audience)
    await session.flush()
    return audience


async def page(
    session: AsyncSession, user_id: str, platform: str | None, cursor: str | None, limit: int
) -> tuple[list[Audience], int]:
    stmt = select(Audience).where(Audience.user_id == user_id)
    if platform:
        stmt = stmt.where(Audience.platform == platform)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = (await session.scalars(keyset_page(stmt, PAGE_COLUMNS, NEWEST, cursor, limit))).all()
    return list(rows), int(total or 0)


async def member_counts(session: AsyncSession, audience_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    out = dict.fromkeys(audience_ids, 0)
    if not audience_ids:
        return out
    stmt = (
        select(AudienceMember.audience_id, func.count())
        .where(AudienceMember.audience_id.in_(set(audience_ids)))
        .group_by(AudienceMember.audience_id)
    )
    for audience_id, count in (await session.execute(stmt)).all():
        out[audience_id] = int(count)
    return out


def _insert(session: AsyncSession) -> Any:
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(AudienceMember)


async def add_members(session: AsyncSession, audience_id: uuid.UUID, contact_ids: Sequence[int]) -> int:
    """Add contacts (the caller's own, checked) to an audience; returns how many were not members."""
    added = 0
    now = utcnow()
    ids = list(dict.fromkeys(contact_ids))
    for start in range(0, len(ids), _IN_CHUNK):
        rows = [
            {"audience_id": audience_id, "contact_id": c, "added_at": now}
            for c in ids[start : start + _IN_CHUNK]
        ]
        stmt = (
            _insert(session)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["audience_id", "contact_id"])
            .returning(AudienceMember.contact_id)
        )
        added += len((await session.execute(stmt)).all())
    return added


async def remove_members(session: AsyncSession, audience_id: uuid.UUID, contact_ids: Sequence[int]) -> int:
    removed = 0
    ids = list(set(contact_ids))
    for start in range(0, len(ids), _IN_CHUNK):
        stmt = (
            delete(AudienceMember)
            .where(
                AudienceMember.audience_id == audience_id,
                AudienceMember.contact_id.in_(ids[start : start + _IN_CHUNK]),
            )
            .returning(AudienceMember.contact_id)
        )
        removed += len((await session.execute(stmt)).all())
    return removed


async def in_use_by(session: AsyncSession, user_id: str, audience_id: uuid.UUID) -> list[str]:
    """Names of the user's live tasks that include or exclude the audience."""
    stmt = (
        select(InviteTask.name)
        .join(TaskAudience, TaskAudience.task_id == InviteTask.id)
        .where(
            InviteTask.user_id == user_id,
            TaskAudience.audience_id == audience_id,
            InviteTask.status.in_(LIVE_TASK_STATUSES),
        )
        .order_by(InviteTask.name)
    )
    return list((await session.scalars(stmt)).all())


async def delete_audience(session: AsyncSession, audience: Audience) -> None:
    """Delete the audience; finished tasks forget it (their targets are materialised already)."""
    await session.execute(delete(TaskAudience).where(TaskAudience.audience_id == audience.id))
    await session.delete(audience)
    await session.flush()
