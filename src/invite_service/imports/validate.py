"""``POST /import/validate``: the whole import's reading and checks, with nothing written.

With a ``task_id`` the task's existing targets and the suppression list are read too, so the counts
are what an import would report; with an ``audience_id`` the suppression list (a person already a
contact is merged, not a duplicate) and the consent and tags columns. Without a ``mapping``, a file
whose header this user imported before is read with the mapping used then (``remembered``: see
``imports/remember.py``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import UploadFile
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.config import Settings
from invite_service.errors import InvalidInput
from invite_service.imports import file_limits as limits
from invite_service.imports import remember
from invite_service.imports import repository as repo
from invite_service.imports.convert import Staged
from invite_service.imports.destination import Destination, check_one, resolve
from invite_service.imports.pipeline import identities, split_suppressed
from invite_service.imports.schemas import ImportOptions, RowError, ValidateOut
from invite_service.imports.sources import probe
from invite_service.imports.vector import convert_chunk
from invite_service.kit.tabular import bounds
from invite_service.kit.tabular.columnar import ColumnBatch
from invite_service.kit.tabular.errors import NoIdentityColumn
from invite_service.kit.tabular.mapping import Rejection, build_plan
from invite_service.kit.tabular.readers import CsvReader, RawRow, Reader
from invite_service.kit.tabular.upload import spool
from invite_service.stores import suppressions


def _take(rows: Iterator[RawRow], n: int) -> list[RawRow]:
    return list(itertools.islice(rows, n))


def _chunks(reader: Reader) -> Iterator[list[RawRow] | ColumnBatch]:
    """The file's rows a chunk at a time, as the import reads them: a CSV's plain lines in bulk."""
    if isinstance(reader, CsvReader):
        yield from reader.batches(bounds.CHUNK_ROWS)
        return
    rows = reader.rows()
    while chunk := _take(rows, bounds.CHUNK_ROWS):
        yield chunk


def _preview(row: Staged) -> dict[str, Any]:
    number, kind, key, username, user_id, phone, first, last, extra = row
    return {
        "row": number,
        "kind": kind,
        "key": key,
        "username": username,
        "user_id": user_id,
        "phone": phone,
        "first_name": first,
        "last_name": last,
        "fields": json.loads(extra),
    }


async def _release(session: AsyncSession) -> None:
    """End the session's read-only transaction, which returns its connection to the pool while the next
    chunk is read (validate writes nothing; the objects it loaded are not used again)."""
    await session.rollback()


async def _remembered(
    session: AsyncSession, user_id: str, columns: list[str]
) -> dict[str, str | None] | None:
    """The mapping this user last imported a file of this header with, fitted to these columns."""
    value = await repo.remembered_mapping(session, user_id, remember.signature(columns))
    return remember.offered(columns, value) if value is not None else None


async def validate_file(
    session: AsyncSession,
    config: Settings,
    user_id: str,
    upload: UploadFile,
    options: ImportOptions,
    into: tuple[uuid.UUID | None, uuid.UUID | None] = (None, None),
) -> ValidateOut:
    """``into``: the task or the audience (at most one) the file would go into, or neither."""
    check_one(*into, required=False)
    stream, _size = await spool(upload, config.import_max_upload_bytes)
    try:
        # The file is probed before the session is first used, and each chunk is read with the
        # session's connection handed back (``_release``): no connection waits on a file's parsing.
        reader, plan = await asyncio.to_thread(probe, stream, options.sheet, options.mapping)
        remembered = False
        if options.mapping is None and reader.info.has_header and reader.info.format in ("csv", "xlsx"):
            offer = await _remembered(session, user_id, reader.info.columns)
            await _release(session)
            if offer is not None:
                try:
                    plan = await asyncio.to_thread(build_plan, reader, offer, purpose="targets")
                    remembered = True
                except (InvalidInput, NoIdentityColumn):  # it no longer fits: the file's own mapping
                    pass
        dest: Destination | None = None
        if into != (None, None):
            dest = await resolve(session, user_id, *into)
            await _release(session)
        contacts = dest is not None and dest.audience_id is not None
        chunks = _chunks(reader)
        # Hashes, not the keys themselves: a million identities stay a few dozen MB.
        seen_keys: set[int] = set()
        total = invalid = duplicates = suppressed = 0
        errors: list[Rejection] = []
        preview: list[dict[str, Any]] = []
        while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
            valid, raws, rejected = await asyncio.to_thread(
                convert_chunk, plan, chunk, config.default_phone_region, contacts=contacts
            )
            total += len(valid) + len(rejected)
            invalid += len(rejected)
            matched: list[Rejection] = []
            if dest is not None:
                hits = await suppressions.suppressed_among(session, user_id, dest.platform, identities(valid))
                clear, matched = split_suppressed(valid, raws, hits)
                suppressed += len(matched)
                candidates = clear if options.skip_suppressed else valid
            else:
                candidates = valid
            firsts: list[Staged] = []
            for row in candidates:
                digest = hash((row[1], row[2]))
                if digest in seen_keys:
                    duplicates += 1
                else:
                    seen_keys.add(digest)
                    firsts.append(row)
            if dest is not None and dest.task_id is not None:
                by_kind: dict[str, list[str]] = {}
                for row in firsts:
                    by_kind.setdefault(row[1], []).append(row[2])
                existing = await repo.existing_identities(session, dest.task_id, by_kind)
                await _release(session)
                duplicates += sum((row[1], row[2]) in existing for row in firsts)
                firsts = [row for row in firsts if (row[1], row[2]) not in existing]
            preview += [_preview(row) for row in firsts[: limits.PREVIEW_ROWS - len(preview)]]
            reported = sorted(rejected + (matched if options.skip_suppressed else []), key=lambda r: r.row)
            errors += reported[: max(bounds.VALIDATE_ERROR_LIMIT - len(errors), 0)]
    finally:
        stream.close()
    info = reader.info
    not_new = invalid + duplicates + (suppressed if options.skip_suppressed else 0)
    return ValidateOut(
        format=info.format,
        encoding=info.encoding,
        delimiter=info.delimiter,
        sheet=info.sheet,
        sheets=info.sheets,
        has_header=info.has_header,
        columns=info.columns,
        mapping=plan.described(),
        rows=total,
        valid=total - not_new,
        invalid=invalid,
        duplicates=duplicates,
        suppressed=suppressed if dest is not None else None,
        errors=[RowError(row=e.row, reason=e.reason, detail=e.detail) for e in errors],
        preview=preview,
        remembered=remembered,
    )
