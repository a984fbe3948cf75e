"""An import's rejected rows as a CSV download (``rejected.csv``), streamed a page at a time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from invite_service.db import Database
from invite_service.imports import repository as repo
from invite_service.kit.tabular.csv_out import BOM, PAGE, cell, csv_lines, header, neutralize


async def rejected_csv(database: Database, job_id: uuid.UUID, columns: list[str]) -> AsyncIterator[bytes]:
    """``row, reason, detail, duplicate_of_row`` then the row as it was in the file, one line a rejected
    row. A duplicate names the row it repeats (empty: it repeats a target already in the task); its
    file columns are empty (only a duplicate's identity is kept until the merge finds it)."""
    yield (BOM + header(["row", "reason", "detail", "duplicate_of_row", *columns])).encode()
    after: tuple[int, int] | None = None
    while True:
        async with database.session() as session:
            page = await repo.rejections_page(session, job_id, after, PAGE)
        if not page:
            return
        lines = [
            [
                r.row_number,
                r.reason,
                neutralize(r.detail),
                r.duplicate_of_row,
                *[cell(r.raw.get(c)) for c in columns],
            ]
            for r in page
        ]
        yield csv_lines(lines).encode()
        after = (page[-1].row_number, page[-1].id)
