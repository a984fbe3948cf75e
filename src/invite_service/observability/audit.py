"""User actions recorded in ``audit_events``, in the caller's transaction."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

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
