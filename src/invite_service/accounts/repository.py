"""SQL for the accounts view: the states our lanes hold for a user's accounts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.models import InviteTask, InviteTaskAccount
from invite_service.models.enums import LaneStatus

HELD = [LaneStatus.COOLING_DOWN.value, LaneStatus.RESTRICTED.value, LaneStatus.UNAVAILABLE.value]


async def held_states(
    session: AsyncSession, user_id: str, account_ids: Sequence[str], now: datetime
) -> dict[str, tuple[str, datetime | None]]:
    """Per account, the strongest hold the user's lanes record (restricted > unavailable > cooling)."""
    if not account_ids:
        return {}
    stmt = (
        select(
            InviteTaskAccount.account_id, InviteTaskAccount.status, func.max(InviteTaskAccount.cooldown_until)
        )
        .join(InviteTask, InviteTask.id == InviteTaskAccount.task_id)
        .where(
            InviteTask.user_id == user_id,
            InviteTaskAccount.account_id.in_(list(account_ids)),
            InviteTaskAccount.status.in_(HELD),
        )
        .group_by(InviteTaskAccount.account_id, InviteTaskAccount.status)
    )
    rank = {LaneStatus.RESTRICTED.value: 3, LaneStatus.UNAVAILABLE.value: 2, LaneStatus.COOLING_DOWN.value: 1}
    out: dict[str, tuple[str, datetime | None]] = {}
    for account_id, status, until in await session.execute(stmt):
        if until is not None and until <= now and status != LaneStatus.UNAVAILABLE.value:
            continue  # expired, reactivated at the next tick
        best = out.get(account_id)
        if best is None or rank[status] > rank[best[0]]:
            out[account_id] = (status, until)
    return out


async def lanes(session: AsyncSession, task_id: uuid.UUID) -> list[InviteTaskAccount]:
    stmt = (
        select(InviteTaskAccount)
        .where(InviteTaskAccount.task_id == task_id)
        .order_by(InviteTaskAccount.position)
    )
    return list((await session.scalars(stmt)).all())
