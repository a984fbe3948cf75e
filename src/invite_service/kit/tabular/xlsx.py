"""XLSX, streamed with openpyxl's read-only mode, behind a zip-bomb guard."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO, Any

from openpyxl import load_workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from invite_service.kit.tabular import bounds
from invite_service.kit.tabular.errors import (
    FileUnreadable,
    SheetNotFound,
    TooManyCells,
    TooManyColumns,
    UnrecognisedFile,
    UnsafeFile,
)
from invite_service.kit.tabular.readers import ROW_ERROR, FileInfo, RawRow, unique_columns

_CONTENT_TYPES = "[Content_Types].xml"
_REQUIRED_MEMBERS = (_CONTENT_TYPES, "xl/workbook.xml")
_OVERRIDE = re.compile(rb"<(?:\w+:)?Override\b([^>]*)>")
_PART_NAME = re.compile(rb"""\bPartName\s*=\s*["']/?([^"']*)["']""")
_CONTENT_TYPE = re.compile(rb"""\bContentType\s*=\s*["']([^"']*)["']""")
_WORKSHEET_TYPE = b"spreadsheetml.worksheet+xml"
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b")
_SHEET_DATA = re.compile(rb"<(?:\w+:)?sheetData\b")
_MIB = 1024 * 1024


def _streamed_parts(archive: zipfile.ZipFile) -> set[str]:
    """The parts openpyxl's read-only mode streams: those declared worksheets and nothing else, and
    undeclared ones under ``xl/worksheets/`` (a writer relying on a default content type).

    openpyxl picks the shared strings by content type, so a part declared both a worksheet and
    something else counts as loaded whole.
    """
    declared: dict[str, set[bytes]] = {}
    for attrs in _OVERRIDE.findall(archive.read(_CONTENT_TYPES)):
        name, kind = _PART_NAME.search(attrs), _CONTENT_TYPE.search(attrs)
        if name and kind:
            declared.setdefault(name.group(1).decode("utf-8", "replace"), set()).add(kind.group(1))
    undeclared = {n for n in archive.namelist() if n.startswith("xl/worksheets/") and n not in declared}
    worksheets = {n for n, kinds in declared.items() if all(k.endswith(_WORKSHEET_TYPE) for k in kinds)}
    return undeclared | worksheets


def _check_parts(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> None:
    """Refuse a part openpyxl would load whole (shared strings above all) that inflates past the bound.

    Checked on the declared sizes, which ``zipfile`` holds each member to. A count bound on the shared
    strings would read ``uniqueCount``, which can lie; their size is what costs memory.
    """
    limit = bounds.XLSX_MAX_PART_BYTES
    by_name = {m.filename: m for m in members}
    if by_name[_CONTENT_TYPES].file_size > limit:
        raise UnsafeFile(f"The workbook's content types part is over {limit // _MIB} MiB.")
    streamed = _streamed_parts(archive)
    for member in members:
        if member.filename in streamed:
            _check_sized(archive, member)
            continue
        if member.file_size <= limit:
            continue
        what = (
            "shared strings"
            if "sharedstrings" in member.filename.lower()
            else f"part {member.filename[:100]!r}"
        )
        raise UnsafeFile(
            f"The workbook's {what} would inflate to {member.file_size // _MIB} MiB (at most "
            f"{limit // _MIB} MiB); save the sheet as CSV and upload that instead."
        )


def _check_sized(archive: zipfile.ZipFile, sheet: zipfile.ZipInfo) -> None:
    """Refuse a large sheet with no ``<dimension>`` before its rows.

    openpyxl sizes every sheet when it opens the workbook, and without a dimension it parses the
    whole sheet to do so, keeping an element per row: 30 MB of ``<row/>`` cost 5 s and 450 MB before
    any bound of ours could count a cell. Real writers put the dimension first; a small sheet without
    one is cheap to size.
    """
    if sheet.file_size <= bounds.XLSX_MAX_UNSIZED_SHEET_BYTES:
        return
    with archive.open(sheet) as part:
        head = part.read(bounds.SNIFF_BYTES)
    dimension, rows = _DIMENSION.search(head), _SHEET_DATA.search(head)
    if dimension is None or (rows is not None and rows.start() < dimension.start()):
        raise UnsafeFile(
            f"The sheet {sheet.filename.rsplit('/', 1)[-1][:100]!r} has no <dimension> and would inflate to "
            f"{sheet.file_size // _MIB} MiB; open and save it in Excel, or save it as CSV."
        )


def check_archive(stream: IO[bytes]) -> None:
    """Refuse a ZIP that is not a workbook, or one that would inflate far beyond its size.

    Checked on the central directory before any member is inflated; ``zipfile`` then stops
    each member at its declared size (a lying header fails its CRC instead of inflating on).
    """
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
            _check_members(members)
            _check_parts(archive, members)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error, NotImplementedError) as exc:
        raise UnrecognisedFile("The file looks like a ZIP/XLSX archive but it is damaged.") from exc
    except RuntimeError as exc:  # zipfile's word for an encrypted member
        raise UnrecognisedFile("The workbook is encrypted; save it without a password.") from exc


def _check_members(members: list[zipfile.ZipInfo]) -> None:
    names = {m.filename for m in members}
    if not all(name in names for name in _REQUIRED_MEMBERS):
        raise UnrecognisedFile(
            "This ZIP archive is not an Excel workbook (.xlsx); upload XLSX, CSV, TSV, JSON or NDJSON."
        )
    if len(members) > bounds.XLSX_MAX_MEMBERS:
        raise UnsafeFile(f"The workbook has {len(members)} parts; at most {bounds.XLSX_MAX_MEMBERS}.")
    total = sum(m.file_size for m in members)
    if total > bounds.XLSX_MAX_UNCOMPRESSED_BYTES:
        raise UnsafeFile(
            f"The workbook would inflate to {total // (1024 * 1024)} MiB "
            f"(at most {bounds.XLSX_MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MiB); it looks like a zip bomb."
        )
    for member in members:
        if member.file_size < bounds.XLSX_RATIO_CHECK_MIN_BYTES:
            continue
        ratio = member.file_size / max(member.compress_size, 1)
        if ratio > bounds.XLSX_MAX_MEMBER_RATIO:
            raise UnsafeFile(
                f"A part of the workbook compresses {ratio:.0f}:1 "
                f"(at most {bounds.XLSX_MAX_MEMBER_RATIO}:1); it looks like a zip bomb."
            )


def cell_value(value: Any) -> Any:
    """Cells as the values a target field can hold: integral floats (phones, ids) lose their '.0'."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e18:
        return int(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return value


def _last_filled(values: tuple[Any, ...] | list[Any]) -> int:
    """The length of ``values`` without its trailing blank cells."""
    end = len(values)
    while end and values[end - 1] in (None, ""):
        end -= 1
    return end


def _blank(values: tuple[Any, ...]) -> bool:
    """Whether every cell is None or "", in C: ``count(None)`` is an identity check per cell, and the
    slower ``count("")`` (a rich comparison per None) runs only when something else is there."""
    nones = values.count(None)
    return nones == len(values) or nones + values.count("") == len(values)


def _beyond_header(values: tuple[Any, ...], width: int) -> dict[str, Any]:
    """A row's cells right of the header as ``column_N``; a row with a value past ``MAX_COLUMNS`` is
    marked rejected instead. A padded row costs no Python loop."""
    if _blank(values[width:]):
        return {}
    if not _blank(values[bounds.MAX_COLUMNS :]):
        detail = f"the row has values past column {bounds.MAX_COLUMNS}; at most that many are read"
        return {ROW_ERROR: ("too_many_columns", detail)}
    return {
        f"column_{i}": cell_value(v)
        for i, v in enumerate(values[width : bounds.MAX_COLUMNS], start=width + 1)
        if v not in (None, "")
    }


class XlsxReader:
    """A sheet's rows, walked only as far as each row's last real cell and within a cell budget.

    The sheet's ``<dimension>`` is only an estimate for progress: openpyxl would otherwise pad every
    row (and every missing row up to the declared last one) to the declared width.
    """

    def __init__(self, stream: IO[bytes], *, sheet: str | None) -> None:
        check_archive(stream)
        stream.seek(0)
        try:
            self._book = load_workbook(stream, read_only=True, data_only=True)
        except (zipfile.BadZipFile, zlib.error, SyntaxError, KeyError, ValueError, OSError) as exc:
            raise FileUnreadable(f"The workbook cannot be read: {type(exc).__name__}.") from exc
        names = list(self._book.sheetnames)
        name = names[0] if names else None
        if sheet is not None:
            exact = [n for n in names if n == sheet] or [n for n in names if n.lower() == sheet.lower()]
            if not exact:
                raise SheetNotFound(f"No sheet named {sheet!r}; the workbook has: {', '.join(names)}.")
            name = exact[0]
        if name is None:
            raise FileUnreadable("The workbook has no sheets.")
        self._sheet = self._book[name]
        declared_rows = self._sheet.max_row if isinstance(self._sheet.max_row, int) else None
        if isinstance(self._sheet, ReadOnlyWorksheet):
            self._sheet.reset_dimensions()
        self._cells = 0
        self._rows = self._budgeted(self._sheet.iter_rows(values_only=True))
        self._header_row = 0
        header = self._first_row()
        if header is None:
            raise FileUnreadable(f"The sheet {name!r} is empty.")
        width = _last_filled(header)
        if width > bounds.MAX_COLUMNS:
            raise TooManyColumns(
                f"The sheet's first row has {width} columns; at most {bounds.MAX_COLUMNS} are read."
            )
        self.header_cells: list[Any] = [cell_value(v) for v in header[:width]]
        if declared_rows is not None:
            declared_rows = min(declared_rows, bounds.XLSX_MAX_ROWS)
        self.info = FileInfo(
            format="xlsx",
            sheet=name,
            sheets=names,
            columns=unique_columns(self.header_cells),
            rows_estimate=max(declared_rows - self._header_row, 0) if declared_rows else None,
        )

    def _budgeted(self, rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        """openpyxl's rows, stopped past ``XLSX_MAX_ROWS`` rows or ``XLSX_MAX_CELLS`` cells walked."""
        cells = 0
        for number, values in enumerate(rows, start=1):
            cells += len(values) or 1
            if number > bounds.XLSX_MAX_ROWS:
                raise TooManyCells(
                    f"The sheet goes past row {bounds.XLSX_MAX_ROWS:,}, Excel's last; "
                    "save it as CSV and upload that instead."
                )
            if cells > bounds.XLSX_MAX_CELLS:
                raise TooManyCells(
                    f"The sheet has more than {bounds.XLSX_MAX_CELLS:,} cells by row {number:,} (counting "
                    "empty cells up to each row's last); save it as CSV and upload that instead."
                )
            yield values

    def _first_row(self) -> tuple[Any, ...] | None:
        for values in self._rows:
            self._header_row += 1
            if not _blank(values):
                return values
        return None

    def set_headerless(self) -> None:
        self.info.has_header = False
        self.info.columns = [f"column_{i}" for i in range(1, len(self.header_cells) + 1)]
        if self.info.rows_estimate is not None:
            self.info.rows_estimate += 1

    def rows(self) -> Iterator[RawRow]:
        columns = self.info.columns
        width = len(columns)
        number = self._header_row
        if not self.info.has_header:
            yield number, dict(zip(columns, self.header_cells, strict=False))
        try:
            for values in self._rows:
                number += 1
                # C-speed checks: a padded row is walked in Python only as far as its real cells.
                if values.count(None) == len(values):
                    continue
                row = {columns[i]: cell_value(v) for i, v in enumerate(values[:width]) if v is not None}
                if len(values) > width:
                    row.update(_beyond_header(values, width))
                yield number, row
        except (zipfile.BadZipFile, zlib.error, SyntaxError, KeyError, ValueError, OSError, EOFError) as exc:
            # SyntaxError covers the XML parser's ParseError.
            raise FileUnreadable(f"The workbook is damaged near row {number}: {type(exc).__name__}.") from exc
        finally:
            self._book.close()

    def bytes_read(self) -> int:
        return 0
