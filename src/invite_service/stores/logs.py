"""The task log: one row per platform call and engine event (written by the engine)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.models import (
    ExecutionLog,
)


async def log(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(ExecutionLog).values(**values))


async def recent_error_codes(
    session: AsyncSession, task_id: uuid.UUID, action: str, limit: int
) -> list[str | None]:
    """The error codes of the task's last ``limit`` log rows of ``action``, newest first (ix ..._task)."""
    rows = await session.scalars(
        select(ExecutionLog.error_code)
        .where(ExecutionLog.task_id == task_id, ExecutionLog.action == action)
        .order_by(ExecutionLog.id.desc())
        .limit(limit)
    )
    return list(rows)
