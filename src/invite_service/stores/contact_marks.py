"""All SQL of the contact policy: the user's policy row and the send-time contact marks.

A mark is claimed with one conditional upsert (``claim``): the row is the lock, so two sends to one
person cannot both pass the cooldown, whatever their interleaving (docs/architecture.md "Contact policy").
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, false, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.kit.clock import utcnow
from invite_service.models import ContactMark, ContactPolicy
from invite_service.models.contact_policy import EffectivePolicy


def _insert(session: AsyncSession, table: Any) -> Any:
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(table)


async def policy(session: AsyncSession, user_id: str) -> EffectivePolicy:
    row = await session.get(ContactPolicy, user_id)
    return EffectivePolicy.of(row)


async def policy_row(session: AsyncSession, user_id: str) -> ContactPolicy | None:
    return await session.get(ContactPolicy, user_id)


async def put_policy(session: AsyncSession, user_id: str, values: EffectivePolicy) -> None:
    now = utcnow()
    row = {
        "message_cooldown_days": values.message_cooldown_days,
        "invite_cooldown_days": values.invite_cooldown_days,
        "require_consent": values.require_consent,
    }
    stmt = _insert(session, ContactPolicy).values(user_id=user_id, created_at=now, updated_at=now, **row)
    stmt = stmt.on_conflict_do_update(index_elements=["user_id"], set_={**row, "updated_at": now})
    await session.execute(stmt)


def _mine(task_id: uuid.UUID, target_id: int) -> Any:
    return and_(ContactMark.task_id == task_id, ContactMark.target_id == target_id)


async def claim(
    session: AsyncSession,
    *,
    user_id: str,
    platform: str,
    channel: str,
    person: str,
    now: datetime,
    cooldown_days: int | None,
    task_id: uuid.UUID,
    target_id: int,
) -> bool:
    """Take the person's mark on ``channel`` for this target, or learn someone has it: one statement.

    Passes when there is no mark, when the last contact is at least ``cooldown_days`` old (None: never
    again), or when the mark is this target's own (a retry). On PostgreSQL a concurrent claim of the same
    row waits for this transaction and then re-evaluates the WHERE against the committed row.
    """
    stmt = claim_statement(
        session.get_bind().dialect.name,
        user_id=user_id,
        platform=platform,
        channel=channel,
        person=person,
        now=now,
        cooldown_days=cooldown_days,
        task_id=task_id,
        target_id=target_id,
    )
    return stmt is None or (await session.execute(stmt)).first() is not None


def claim_statement(
    dialect: str,
    *,
    user_id: str,
    platform: str,
    channel: str,
    person: str,
    now: datetime,
    cooldown_days: int | None,
    task_id: uuid.UUID,
    target_id: int,
) -> Any:
    """``claim``'s statement (a row returned: claimed), for a caller that runs it inside a larger one; None
    when there is no cap to claim (``cooldown_days`` 0)."""
    if cooldown_days == 0:
        return None
    passes = _mine(task_id, target_id)
    if cooldown_days is not None:
        passes = or_(ContactMark.last_at <= now - timedelta(days=cooldown_days), passes)
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return (
        module.insert(ContactMark)
        .values(
            user_id=user_id,
            platform=platform,
            channel=channel,
            person=person,
            last_at=now,
            previous_at=None,
            task_id=task_id,
            target_id=target_id,
        )
        .on_conflict_do_update(
            index_elements=["user_id", "platform", "channel", "person"],
            set_={
                "last_at": now,
                # A retry keeps the contact before its first claim: that is what a release restores.
                "previous_at": case(
                    (_mine(task_id, target_id), ContactMark.previous_at), else_=ContactMark.last_at
                ),
                "task_id": task_id,
                "target_id": target_id,
            },
            where=passes,
        )
        .returning(ContactMark.person)
    )


async def release(session: AsyncSession, task_id: uuid.UUID, target_id: int) -> None:
    """The platform provably did not reach the person: give the mark back as it was before the claim."""
    mine = _mine(task_id, target_id)
    await session.execute(delete(ContactMark).where(mine, ContactMark.previous_at.is_(None)))
    await session.execute(
        update(ContactMark)
        .where(mine, ContactMark.previous_at.is_not(None))
        .values(last_at=ContactMark.previous_at, previous_at=None)
    )


def held(
    user_id: str, platform: str, channel: str, person: Any, now: datetime, cooldown_days: int | None
) -> Any:
    """A correlated EXISTS: the person's mark on ``channel`` still holds at ``now`` (for the preview)."""
    if cooldown_days == 0:
        return false()
    stmt = select(ContactMark.person).where(
        ContactMark.user_id == user_id,
        ContactMark.platform == platform,
        ContactMark.channel == channel,
        ContactMark.person == person,
    )
    if cooldown_days is not None:
        stmt = stmt.where(ContactMark.last_at > now - timedelta(days=cooldown_days))
    return stmt.exists()
