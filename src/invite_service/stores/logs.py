"""The task log: one row per platform call and engine event (written by the engine)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.models import (
    ExecutionLog,
)


async def log(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(ExecutionLog).values(**values))
