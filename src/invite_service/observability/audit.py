"""User actions recorded in ``audit_events``, in the caller's transaction."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.kit.pagination import SortSpec, keyset_page
from invite_service.models import AuditEvent


async def record(
    session: AsyncSession,
    user_id: str,
    action: str,
    object_type: str,
    object_id: object | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    session.add(
        AuditEvent(
            user_id=user_id,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            detail=detail or {},
            request_id=request_id,
        )
    )


async def list_events(
    session: AsyncSession, user_id: str, sort: SortSpec, cursor: str | None, limit: int
) -> tuple[list[AuditEvent], int]:
    base = select(AuditEvent).where(AuditEvent.user_id == user_id)
    rows = (await session.scalars(keyset_page(base, [AuditEvent.id], sort, cursor, limit))).all()
    total = await session.scalar(select(func.count()).where(AuditEvent.user_id == user_id))
    return list(rows), int(total or 0)
