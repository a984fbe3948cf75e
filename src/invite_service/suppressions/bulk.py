"""Bulk import of the suppression list from a file, with the import readers (CSV, XLSX, JSON, NDJSON).

Every identity of a row is added (username, user id and phone each become an entry). A row's valid
identities are kept even when another of its identities is invalid: an opt-out is never dropped
because of a typo beside it; the row is still reported.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from fastapi import UploadFile
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.config import Settings
from invite_service.kit.tabular import bounds
from invite_service.kit.tabular.mapping import Rejection, RowPlan, build_plan
from invite_service.kit.tabular.open import open_reader
from invite_service.kit.tabular.readers import RawRow
from invite_service.kit.tabular.upload import spool
from invite_service.models.enums import SuppressionReason, TargetKind
from invite_service.models.identity import NormalizeError
from invite_service.observability import audit
from invite_service.stores import suppressions as repo
from invite_service.suppressions.schemas import SuppressionImportOut
from invite_service.suppressions.service import normalize_key

_REASONS = frozenset(r.value for r in SuppressionReason)
_KINDS = (TargetKind.USER_ID, TargetKind.USERNAME, TargetKind.PHONE)


def _take(rows: Iterator[RawRow], n: int) -> list[RawRow]:
    return list(itertools.islice(rows, n))


def _entries(
    plan: RowPlan, rows: list[RawRow], base: dict[str, Any], default_reason: str, region: str
) -> tuple[list[dict[str, Any]], list[Rejection], int]:
    entries: list[dict[str, Any]] = []
    rejected: list[Rejection] = []
    seen = 0
    for number, raw in rows:
        values = plan.extract(number, raw)
        if values is None:
            continue
        seen += 1
        if isinstance(values, Rejection):
            rejected.append(values)
            continue
        reason = (values.reason or default_reason).strip().lower()
        if reason not in _REASONS:
            detail = f"reason {reason[:40]!r} is not one of {', '.join(sorted(_REASONS))}"
            rejected.append(Rejection(number, "invalid_reason", detail, raw))
            continue
        error: Rejection | None = None
        found = 0
        for kind in _KINDS:
            value = getattr(values, kind)
            if value is None:
                continue
            try:
                key = normalize_key(kind, value, region)
            except NormalizeError as exc:
                error = error or Rejection(number, f"invalid_{kind}", str(exc), raw)
                continue
            found += 1
            entries.append({**base, "kind": kind, "key": key, "reason": reason, "note": values.note})
        if error is None and not found:
            error = Rejection(number, "no_identity", "a row needs a username, user_id or phone", raw)
        if error is not None:
            rejected.append(error)
    return entries, rejected, seen


async def import_file(
    session: AsyncSession,
    config: Settings,
    user_id: str,
    upload: UploadFile,
    *,
    platform: str | None,
    reason: SuppressionReason,
    mapping: Mapping[str, str | None] | None,
    sheet: str | None,
) -> SuppressionImportOut:
    stream, _size = await spool(upload, config.import_max_upload_bytes)
    try:
        reader = await asyncio.to_thread(open_reader, stream, sheet=sheet)
        plan = build_plan(reader, mapping, purpose="suppressions")
        rows = reader.rows()
        base = {"user_id": user_id, "platform": platform or repo.ALL_PLATFORMS, "source": "import"}
        seen = created = identities = invalid = 0
        errors: list[dict[str, object]] = []
        while chunk := await asyncio.to_thread(_take, rows, bounds.CHUNK_ROWS):
            entries, rejected, chunk_seen = await asyncio.to_thread(
                _entries, plan, chunk, base, reason.value, config.default_phone_region
            )
            created += await repo.insert_many(session, entries)
            identities += len(entries)
            seen += chunk_seen
            invalid += len(rejected)
            room = bounds.VALIDATE_ERROR_LIMIT - len(errors)
            errors += [
                {"row": r.row, "reason": r.reason, "detail": r.detail} for r in rejected[: max(room, 0)]
            ]
    finally:
        stream.close()
    await audit.record(
        session, user_id, "suppression.import", "suppression", None, {"rows": seen, "created": created}
    )
    return SuppressionImportOut(
        rows=seen, created=created, existing=identities - created, invalid=invalid, errors=errors
    )
