"""A contact's history: every execution-log row of the user's targets that are this contact."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.audiences.contacts_service import owned_contact
from invite_service.audiences.schemas import HistoryItem
from invite_service.kit.pagination import Page, split_page
from invite_service.stores import contacts as repo


async def history(
    session: AsyncSession, user_id: str, contact_id: int, cursor: str | None, limit: int
) -> Page[HistoryItem]:
    contact = await owned_contact(session, user_id, contact_id)
    rows, total = await repo.history_page(session, contact, cursor, limit)
    items, next_cursor = split_page(rows, limit, repo.HISTORY_SORT, lambda r: (r[0].at, r[0].id))
    return Page(
        items=[
            HistoryItem(
                at=log.at,
                task_id=log.task_id,
                task_name=task_name,
                action=log.action,
                outcome=log.outcome,
                error_code=log.error_code,
                account_id=log.account_id,
            )
            for log, task_name in items
        ],
        next_cursor=next_cursor,
        total=total,
    )
