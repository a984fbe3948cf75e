"""The suppression list: add, list, delete, bulk import, export, and the checks.

``is_suppressed`` is what the execution engine calls right before every send; ``suppressed_among`` is
its set-based twin for imports (one query a kind for a whole chunk).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.config import Settings
from invite_service.db import Database
from invite_service.errors import FieldError, InvalidInput, NotFound
from invite_service.kit.pagination import Page, SortSpec, split_page
from invite_service.kit.tabular import csv_out
from invite_service.models import Suppression
from invite_service.models.enums import SuppressionReason, TargetKind
from invite_service.models.identity import (
    NormalizeError,
    normalize_phone,
    normalize_user_id,
    normalize_username,
)
from invite_service.observability import audit
from invite_service.stores import suppressions as repo
from invite_service.suppressions.schemas import SuppressionIn, SuppressionOut

EXPORT_COLUMNS = [
    "platform",
    "kind",
    "username",
    "user_id",
    "phone",
    "reason",
    "note",
    "source",
    "created_at",
]

# The export's platform column for an entry that applies to every platform.
EXPORT_ALL_PLATFORMS = "all"


class SuppressionNotFound(NotFound):
    code, title = "suppression_not_found", "Suppression not found"


def to_out(entry: Suppression) -> SuppressionOut:
    return SuppressionOut(
        id=entry.id,
        platform=None if entry.platform == repo.ALL_PLATFORMS else entry.platform,
        kind=TargetKind(entry.kind),
        key=entry.key,
        reason=SuppressionReason(entry.reason),
        source=entry.source,
        note=entry.note,
        created_at=entry.created_at,
    )


def normalize_key(kind: str, value: str | int, region: str) -> str:
    """One identity the way targets store it; ``NormalizeError`` says what is wrong."""
    if kind == TargetKind.USERNAME:
        return normalize_username(str(value))
    if kind == TargetKind.USER_ID:
        return normalize_user_id(value)
    return normalize_phone(str(value), region)


async def add(
    session: AsyncSession, config: Settings, user_id: str, body: SuppressionIn
) -> tuple[SuppressionOut, bool]:
    """Add an entry; a repeat of one already on the list returns it unchanged (created=False)."""
    kind, value = next(
        (k, v)
        for k, v in (
            (TargetKind.USERNAME, body.username),
            (TargetKind.USER_ID, body.user_id),
            (TargetKind.PHONE, body.phone),
        )
        if v not in (None, "")
    )
    assert value is not None
    try:
        key = normalize_key(kind, value, config.default_phone_region)
    except NormalizeError as exc:
        raise InvalidInput(
            "The suppression entry is not valid.", errors=[FieldError(("body", kind.value), str(exc))]
        ) from exc
    platform = body.platform.value if body.platform else repo.ALL_PLATFORMS
    row = {
        "user_id": user_id,
        "platform": platform,
        "kind": kind.value,
        "key": key,
        "reason": body.reason.value,
        "source": body.source,
        "note": body.note,
    }
    created = await repo.insert_many(session, [row]) == 1
    entry = await repo.find(session, user_id, platform, kind.value, key)
    assert entry is not None
    if created:
        await audit.record(
            session, user_id, "suppression.create", "suppression", entry.id, {"reason": entry.reason}
        )
    return to_out(entry), created


async def list_entries(
    session: AsyncSession,
    user_id: str,
    *,
    platform: str | None,
    kind: str | None,
    reason: str | None,
    q: str | None,
    sort: SortSpec,
    cursor: str | None,
    limit: int,
) -> Page[SuppressionOut]:
    search = q.strip().removeprefix("@") if q else None
    rows, total = await repo.list_page(
        session,
        user_id,
        platform=platform,
        kind=kind,
        reason=reason,
        q=search or None,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    items, next_cursor = split_page(rows, limit, sort, lambda s: (getattr(s, sort.field), s.id))
    return Page[SuppressionOut](items=[to_out(s) for s in items], next_cursor=next_cursor, total=total)


async def delete(session: AsyncSession, user_id: str, suppression_id: int) -> None:
    entry = await repo.get(session, user_id, suppression_id)
    if entry is None:
        raise SuppressionNotFound(f"No suppression entry {suppression_id}")
    await repo.delete(session, entry)
    await audit.record(session, user_id, "suppression.delete", "suppression", suppression_id, {})


async def export_csv(database: Database, user_id: str, platform: str | None) -> AsyncIterator[bytes]:
    """The whole list as CSV that the bulk import reads back."""
    yield (csv_out.BOM + csv_out.header(EXPORT_COLUMNS)).encode()
    after = 0
    while True:
        async with database.session() as session:
            page = await repo.export_page(session, user_id, platform, after, csv_out.PAGE)
        if not page:
            return
        lines: list[list[Any]] = []
        for s in page:
            ids = {kind.value: (s.key if s.kind == kind.value else "") for kind in TargetKind}
            lines.append(
                [
                    EXPORT_ALL_PLATFORMS if s.platform == repo.ALL_PLATFORMS else s.platform,
                    s.kind,
                    ids["username"],
                    ids["user_id"],
                    ids["phone"],
                    s.reason,
                    csv_out.neutralize(s.note or ""),
                    s.source,
                    s.created_at.isoformat(),
                ]
            )
        yield csv_out.csv_lines(lines).encode()
        after = page[-1].id
