"""Reads of the rate-limit ledger (the source of truth the limiters count from)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.models import (
    RateLimitLedger,
)


async def last_action_at(session: AsyncSession, account_id: str) -> datetime | None:
    """The account's latest counted action in any task: pacing is derived from the ledger."""
    return await session.scalar(
        select(func.max(RateLimitLedger.at)).where(RateLimitLedger.account_id == account_id)
    )
