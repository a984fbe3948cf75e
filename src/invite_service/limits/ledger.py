"""Reads of the rate-limit ledger (the source of truth the limiters count from)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BindParameter, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.models import (
    RateLimitLedger,
)


def last_action_query(
    account_id: str | BindParameter[str], since: datetime | None = None
) -> Select[datetime]:
    """``max(at)`` of the account's rows after ``since``: one backward probe of
    ``ix_rate_limit_ledger_account_at`` (its own statement so the EXPLAIN test reads the very SQL)."""
    stmt = select(func.max(RateLimitLedger.at)).where(RateLimitLedger.account_id == account_id)
    if since is not None:
        stmt = stmt.where(RateLimitLedger.at > since)
    return stmt


async def last_action_at(
    session: AsyncSession, account_id: str, *, since: datetime | None = None
) -> datetime | None:
    """The account's latest counted action in any task: pacing is derived from the ledger.

    Pacing only asks whether that action is under ``min_delay`` old, so it passes ``since = now - delay``:
    a row older than that cannot pace anything (None means the same as "too old"), and the read stays
    inside the live window however long the ledger is. Retention keeps a day + slack, far longer.
    """
    return await session.scalar(last_action_query(account_id, since))


def live_rows_query(since: datetime) -> Select[int, str, str, datetime]:
    """Every row dated after ``since`` (the Redis rebuild: one longest window + slack back), by
    ``ix_rate_limit_ledger_at``; unordered, as the rebuild adds them idempotently in any order."""
    return select(
        RateLimitLedger.id, RateLimitLedger.account_id, RateLimitLedger.action, RateLimitLedger.at
    ).where(RateLimitLedger.at > since)
