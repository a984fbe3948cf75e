"""CSV downloads, streamed a page at a time: an import's rejected rows (and the suppression export).

Each page is read in a short session of its own: the request's session is closed before a streamed
body is sent. Files start with a UTF-8 BOM so Excel shows Cyrillic right, and free-text cells that a
spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) are prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from invite_service.db import Database
from invite_service.imports import repository as repo

PAGE = 2000
BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_lines(rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows(rows)
    return buf.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return neutralize(value)


async def rejected_csv(database: Database, job_id: uuid.UUID, columns: list[str]) -> AsyncIterator[bytes]:
    """``row, reason, detail`` then the row as it was in the file, one line a rejected row."""
    yield (BOM + csv_lines([["row", "reason", "detail", *columns]])).encode()
    after: tuple[int, int] | None = None
    while True:
        async with database.session() as session:
            page = await repo.rejections_page(session, job_id, after, PAGE)
        if not page:
            return
        lines = [
            [r.row_number, r.reason, neutralize(r.detail), *[_cell(r.raw.get(c)) for c in columns]]
            for r in page
        ]
        yield csv_lines(lines).encode()
        after = (page[-1].row_number, page[-1].id)
