"""``GET /api/v1/audit``: the user's own audit trail, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from invite_service.api.deps import CurrentUser, SessionDep
from invite_service.kit.inputs import Text
from invite_service.kit.pagination import MAX_LIMIT, Page, SortSpec, split_page
from invite_service.observability import audit

router = APIRouter(prefix="/audit", tags=["audit"])
_SORT = SortSpec("id", descending=True)


class AuditOut(BaseModel):
    id: int
    action: str
    object_type: str
    object_id: str | None
    detail: dict[str, Any]
    request_id: str | None
    at: datetime


@router.get("", response_model=Page[AuditOut])
async def list_audit(
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[Text | None, Query(max_length=1000)] = None,
) -> Page[AuditOut]:
    rows, total = await audit.list_events(session, user, _SORT, cursor, limit)
    items, next_cursor = split_page(rows, limit, _SORT, lambda e: (e.id,))
    return Page[AuditOut](
        items=[AuditOut.model_validate(e, from_attributes=True) for e in items],
        next_cursor=next_cursor,
        total=total,
    )
