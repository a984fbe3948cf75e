"""The per-target report as a CSV or XLSX download, in constant memory at any task size.

Both formats read the targets in keyset pages along ``(task_id, id)``, each page in its own short
session, so no transaction stays open for the length of a download and no page outlives its turn.
CSV is streamed as it is read. XLSX is written with openpyxl's write-only workbook — rows go to a
temporary file as they come, strings inline (no shared-strings table growing with the rows) — and
the finished file is streamed from disk, then deleted.

Spreadsheet formula injection (OWASP "CSV injection"): a cell that starts with ``=``, ``+``, ``-``,
``@`` (or their fullwidth forms, or any of them behind zero-width characters), a tab or a carriage
return would be run as a formula by Excel, LibreOffice or Sheets, so it gets a leading apostrophe and
is shown as the text it is: ``csv_out.neutralize``, the rule of every CSV download. This covers every
text cell, the header, names and error details included, and phone numbers too (``+7…`` would otherwise
be read as a formula). An XLSX cell needs no apostrophe: every text cell is written as a typed string
(``t="inlineStr"``), which a spreadsheet shows as it is and never evaluates (``_xlsx_row``).

The user's own columns come back: every template field some target has (e-mail, consent date, a CRM
id …) is a column after the standard ones, headed by the field's name (``repository.report_fields``).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import tempfile
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from invite_service.db import Database
from invite_service.kit.tabular.csv_out import neutralize
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


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    """A text value as a typed string cell (openpyxl would take ``=…`` for a formula), anything else
    as itself; datetimes in UTC."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)  # spreadsheets have no time zones: UTC
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"
        return cell
    if isinstance(value, dict | list):
        return _xlsx_cell(sheet, json.dumps(value, ensure_ascii=False))
    return value


def _xlsx_row(sheet: WriteOnlyWorksheet, values: Sequence[Any]) -> None:
    sheet.append([_xlsx_cell(sheet, v) for v in values])


def _field_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def header(fields: Sequence[str]) -> list[str]:
    """The standard columns, then one a template field (a name the standard columns have gets
    ``field:`` in front)."""
    taken = set(HEADER)
    return [*HEADER, *[f"field:{name}" if name in taken else name for name in fields]]


def cells(row: Any, fields: Sequence[str]) -> list[Any]:
    """A report row's values: the standard columns, then the target's value of each field (or empty)."""
    own = row.fields or {}
    return [*row[: len(repo.REPORT_COLUMNS)], *[_field_value(own.get(name)) for name in fields]]


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
HEADER = [*repo.REPORT_COLUMNS[:-3], "processed_at_utc", "source", "replied_at"]


async def _fields(db: Database, user_id: str, task_id: uuid.UUID) -> list[str]:
    async with db.session() as session:
        return await repo.report_fields(session, user_id, task_id)


async def csv_stream(db: Database, user_id: str, task_id: uuid.UUID) -> AsyncIterator[bytes]:
    fields = await _fields(db, user_id, task_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralize(c) for c in header(fields)])
    yield (UTF8_BOM + buffer.getvalue()).encode()
    async for rows in _pages(db, user_id, task_id):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_csv_cell(v) for v in cells(row, fields)] for row in rows)
        yield buffer.getvalue().encode()


def _summary(sheet: WriteOnlyWorksheet, summary: ReportOut) -> None:
    _xlsx_row(sheet, ["Task", summary.name])
    _xlsx_row(sheet, ["Task id", str(summary.task_id)])
    _xlsx_row(sheet, ["Status", summary.status.value])
    _xlsx_row(sheet, ["Progress %", summary.progress])
    for label, when in (("Started (UTC)", summary.started_at), ("Finished (UTC)", summary.finished_at)):
        _xlsx_row(sheet, [label, when])
    sheet.append([])
    for name, count in summary.counters.model_dump().items():
        _xlsx_row(sheet, [name, count])
    _xlsx_row(sheet, ["replied", summary.replied])


def _append(sheet: WriteOnlyWorksheet, rows: Sequence[Any], fields: Sequence[str]) -> None:
    for row in rows:
        _xlsx_row(sheet, cells(row, fields))


async def xlsx_stream(
    db: Database, user_id: str, task_id: uuid.UUID, summary: ReportOut
) -> AsyncIterator[bytes]:
    with tempfile.TemporaryDirectory(prefix="invite-report-") as tmp:
        workbook = Workbook(write_only=True)
        _summary(workbook.create_sheet("Summary"), summary)
        targets = workbook.create_sheet("Targets")
        fields = await _fields(db, user_id, task_id)
        _xlsx_row(targets, header(fields))
        async for rows in _pages(db, user_id, task_id):
            # openpyxl is synchronous CPU work: a page at a time off the event loop.
            await asyncio.to_thread(_append, targets, rows, fields)
        path = Path(tmp) / "report.xlsx"
        await asyncio.to_thread(workbook.save, path)
        with path.open("rb") as fh:
            while chunk := await asyncio.to_thread(fh.read, FILE_CHUNK):
                yield chunk
