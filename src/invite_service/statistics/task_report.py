"""The per-target report as a CSV or XLSX download, in constant memory at any task size.

Both formats read the targets in keyset pages along ``(task_id, id)``, each page in its own short
session, so no transaction stays open for the length of a download and no page outlives its turn.
CSV is streamed as it is read. XLSX is written with openpyxl's write-only workbook — rows go to a
temporary file as they come, strings inline (no shared-strings table growing with the rows) — and
the finished file is streamed from disk, then deleted.

Spreadsheet formula injection (OWASP "CSV injection"): a cell that starts with ``=``, ``+``, ``-``,
``@`` (or their fullwidth forms, or any of them behind zero-width characters), a tab or a carriage
return would be run as a formula by Excel, LibreOffice or Sheets, so it gets a leading apostrophe and
is shown as the text it is: ``csv_out.neutralize``, the rule of every download. This covers every text
cell, the header, names and error details included, and phone numbers too (``+7…`` would otherwise be
read as a formula).
"""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from invite_service.db import Database
from invite_service.kit.tabular.csv_out import neutralize
from invite_service.statistics import reasons
from invite_service.statistics import repository as repo
from invite_service.statistics.schemas import ReportOut

PAGE_ROWS = 1000
FILE_CHUNK = 64 * 1024
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel reads a CSV as UTF-8 only when it starts with a byte order mark (names are often Cyrillic).
UTF8_BOM = "\ufeff"


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return neutralize(value)


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)  # spreadsheets have no time zones: UTC
    return neutralize(value)


def filename(task_id: uuid.UUID, extension: str) -> str:
    return f"task-{task_id}-report.{extension}"


async def _pages(db: Database, user_id: str, task_id: uuid.UUID) -> AsyncIterator[Sequence[Any]]:
    after = 0
    while True:
        async with db.session() as session:
            rows = await repo.report_rows(session, user_id, task_id, after, PAGE_ROWS)
        if not rows:
            return
        yield rows
        if len(rows) < PAGE_ROWS:
            return
        after = rows[-1].id


# Datetimes are UTC; ``replied_at``: the person's first reply to the account (empty: none).
_COLUMNS = [*repo.REPORT_COLUMNS[:-3], "processed_at_utc", "source", "replied_at"]
# ``reason``: the error code's sentence from the reasons catalogue, in the language asked (``lang``).
_REASON_AT = repo.REPORT_COLUMNS.index("error_code") + 1
HEADER = [*_COLUMNS[:_REASON_AT], "reason", *_COLUMNS[_REASON_AT:]]


def _with_reason(row: Sequence[Any], lang: str) -> list[Any]:
    values = list(row)
    values.insert(_REASON_AT, reasons.sentence(values[_REASON_AT - 1], lang))
    return values


async def csv_stream(
    db: Database, user_id: str, task_id: uuid.UUID, lang: str = "en"
) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralize(c) for c in HEADER])
    yield (UTF8_BOM + buffer.getvalue()).encode()
    async for rows in _pages(db, user_id, task_id):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_csv_cell(v) for v in _with_reason(row, lang)] for row in rows)
        yield buffer.getvalue().encode()


def _summary(sheet: WriteOnlyWorksheet, summary: ReportOut) -> None:
    sheet.append(["Task", neutralize(summary.name)])
    sheet.append(["Task id", str(summary.task_id)])
    sheet.append(["Status", summary.status.value])
    sheet.append(["Progress %", summary.progress])
    for label, when in (("Started (UTC)", summary.started_at), ("Finished (UTC)", summary.finished_at)):
        sheet.append([label, _xlsx_cell(when)])
    sheet.append([])
    for name, count in summary.counters.model_dump().items():
        sheet.append([name, count])
    sheet.append(["replied", summary.replied])


def _append(sheet: WriteOnlyWorksheet, rows: Sequence[Any], lang: str) -> None:
    for row in rows:
        sheet.append([_xlsx_cell(v) for v in _with_reason(row, lang)])


async def xlsx_stream(
    db: Database, user_id: str, task_id: uuid.UUID, summary: ReportOut, lang: str = "en"
) -> AsyncIterator[bytes]:
    with tempfile.TemporaryDirectory(prefix="invite-report-") as tmp:
        workbook = Workbook(write_only=True)
        _summary(workbook.create_sheet("Summary"), summary)
        targets = workbook.create_sheet("Targets")
        targets.append([neutralize(c) for c in HEADER])
        async for rows in _pages(db, user_id, task_id):
            # openpyxl is synchronous CPU work: a page at a time off the event loop.
            await asyncio.to_thread(_append, targets, rows, lang)
        path = Path(tmp) / "report.xlsx"
        await asyncio.to_thread(workbook.save, path)
        with path.open("rb") as fh:
            while chunk := await asyncio.to_thread(fh.read, FILE_CHUNK):
                yield chunk
