"""All SQL of inbound replies: received event ids, and the targets a reply is matched to."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.models import IntegrationEvent, InviteTarget, InviteTask
from invite_service.models.enums import TargetKind, TargetStatus
from invite_service.stores.counters import apply_counter_deltas

REPLY_ACTION = "reply"  # the execution log's action of a reply (not a call: left out of the call stats)


async def claim_event(session: AsyncSession, user_id: str, event_id: str, now: datetime) -> bool:
    """Record the event id; False when it was already there (a duplicate). A concurrent twin waits on
    the primary key and then finds it taken."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (
        module.insert(IntegrationEvent)
        .values(user_id=user_id, id=event_id, received_at=now, replied_targets=0, opted_out=False)
        .on_conflict_do_nothing(index_elements=["user_id", "id"])
        .returning(IntegrationEvent.id)
    )
    return (await session.execute(stmt)).first() is not None


async def get_event(session: AsyncSession, user_id: str, event_id: str) -> IntegrationEvent | None:
    return await session.get(IntegrationEvent, (user_id, event_id))


async def set_event_result(
    session: AsyncSession, user_id: str, event_id: str, replied_targets: int, opted_out: bool
) -> None:
    await session.execute(
        update(IntegrationEvent)
        .where(IntegrationEvent.user_id == user_id, IntegrationEvent.id == event_id)
        .values(replied_targets=replied_targets, opted_out=opted_out)
    )


async def mark_replied(
    session: AsyncSession,
    user_id: str,
    platform: str,
    account_id: str,
    identities: dict[TargetKind, str],
    now: datetime,
) -> list[tuple[int, uuid.UUID]]:
    """Set ``replied_at`` on the user's targets (tasks of ``platform``) that ``account_id`` contacted and
    whose identity key is one of ``identities`` (and that were sent to, not only reserved); the first
    reply only. Counters move in the same
    transaction. Returns (target id, task id) of the targets newly marked.

    Matched on the target's key (the unique ``(task_id, kind, key)`` index), which is its user id when it
    has one, else its username, else its phone: a lookup, not a scan of the user's targets.
    """
    if not identities:
        return []
    tasks = select(InviteTask.id).where(InviteTask.user_id == user_id, InviteTask.platform == platform)
    keyed = or_(
        *[and_(InviteTarget.kind == kind, InviteTarget.key == key) for kind, key in identities.items()]
    )
    stmt = (
        update(InviteTarget)
        .where(
            InviteTarget.task_id.in_(tasks.scalar_subquery()),
            InviteTarget.user_id == user_id,
            InviteTarget.account_id == account_id,
            InviteTarget.replied_at.is_(None),
            # Reserved or waiting to (re)try: not contacted (yet) by this account.
            InviteTarget.status.not_in((TargetStatus.PENDING, TargetStatus.RESERVED)),
            keyed,
        )
        .values(replied_at=now)
        .returning(InviteTarget.id, InviteTarget.task_id)
        .execution_options(synchronize_session=False)
    )
    marked = [(int(r[0]), r[1]) for r in await session.execute(stmt)]
    for task_id, n in sorted(Counter(task_id for _, task_id in marked).items()):
        await apply_counter_deltas(session, task_id, {"replied": n})
    return marked
