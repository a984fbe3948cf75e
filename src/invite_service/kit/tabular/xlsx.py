"""XLSX, streamed with openpyxl's read-only mode, behind a zip-bomb guard."""

from __future__ import annotations

import datetime as dt
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO, Any

from openpyxl import load_workbook

from invite_service.kit.tabular import bounds
from invite_service.kit.tabular.errors import FileUnreadable, SheetNotFound, UnrecognisedFile, UnsafeFile
from invite_service.kit.tabular.readers import FileInfo, RawRow, unique_columns

_REQUIRED_MEMBERS = ("[Content_Types].xml", "xl/workbook.xml")


def check_archive(stream: IO[bytes]) -> None:
    """Refuse a ZIP that is not a workbook, or one that would inflate far beyond its size.

    Checked on the central directory before any member is inflated; ``zipfile`` then stops
    each member at its declared size (a lying header fails its CRC instead of inflating on).
    """
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnrecognisedFile("The file looks like a ZIP/XLSX archive but it is damaged.") from exc
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


class XlsxReader:
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
        self._rows = self._sheet.iter_rows(values_only=True)
        self._header_row = 0
        header = self._first_row()
        if header is None:
            raise FileUnreadable(f"The sheet {name!r} is empty.")
        while header and header[-1] in (None, ""):
            header = header[:-1]
        self.header_cells: list[Any] = [cell_value(v) for v in header]
        max_row = self._sheet.max_row if isinstance(self._sheet.max_row, int) else None
        self.info = FileInfo(
            format="xlsx",
            sheet=name,
            sheets=names,
            columns=unique_columns(self.header_cells),
            rows_estimate=max(max_row - self._header_row, 0) if max_row else None,
        )

    def _first_row(self) -> list[Any] | None:
        for values in self._rows:
            self._header_row += 1
            if any(v not in (None, "") for v in values):
                return list(values)
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
                if all(v is None for v in values):
                    continue
                row = {columns[i]: cell_value(v) for i, v in enumerate(values[:width]) if v is not None}
                for i, v in enumerate(values[width:], start=width + 1):
                    if v not in (None, ""):
                        row[f"column_{i}"] = cell_value(v)
                yield number, row
        except (zipfile.BadZipFile, zlib.error, SyntaxError, KeyError, ValueError, OSError, EOFError) as exc:
            # SyntaxError covers the XML parser's ParseError.
            raise FileUnreadable(f"The workbook is damaged near row {number}: {type(exc).__name__}.") from exc
        finally:
            self._book.close()

    def bytes_read(self) -> int:
        return 0
