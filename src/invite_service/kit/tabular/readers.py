"""Streaming readers: the format is detected from the content, whatever the file is called.

``open_reader`` sniffs the file and returns a ``Reader`` whose ``rows()`` yields ``(row_number, row)``
pairs without loading the file: CSV/TSV in UTF-8, UTF-8 with BOM, UTF-16 with BOM or cp1251 with the
delimiter sniffed among ``,`` ``;`` tab and ``|``; XLSX (``xlsx.py``); a JSON array of objects or NDJSON
(``json_reader.py``). Row numbers are what a spreadsheet shows (the header is row 1) for tabular files,
and the item or line number for JSON.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Literal, Protocol

from invite_service.kit.tabular import bounds, columnar
from invite_service.kit.tabular.columnar import ColumnBatch
from invite_service.kit.tabular.errors import EmptyFile, FileUnreadable, TooManyColumns, UnrecognisedFile

Format = Literal["csv", "xlsx", "json", "ndjson"]
RawRow = tuple[int, dict[str, Any]]
# A row that cannot be imported as read carries this key with (reason, detail): a malformed NDJSON
# line, or a bot in the Parsing Service's results.
ROW_ERROR = "__row_error__"
DELIMITERS = (",", ";", "\t", "|")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_CONTROL = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\r\n\f") | {"\x7f"}


@dataclass
class FileInfo:
    """What was detected; shown by validate and kept on the job."""

    format: Format
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    has_header: bool = True
    rows_estimate: int | None = None


class Reader(Protocol):
    info: FileInfo
    # The first row as read; the mapping decides whether it is a header (``set_headerless`` if not).
    header_cells: list[Any]

    def set_headerless(self) -> None: ...

    def rows(self) -> Iterator[RawRow]: ...

    def bytes_read(self) -> int: ...


def unique_columns(names: list[Any]) -> list[str]:
    """Header cells as distinct strings: blanks become ``column_N``, repeats get ``_2``, ``_3``…"""
    out: list[str] = []
    seen: set[str] = set()
    # Each name's next suffix: n repeats of one name cost n steps, not n²/2.
    next_suffix: dict[str, int] = {}
    for index, raw in enumerate(names, start=1):
        name = "" if raw is None else str(raw).replace("\x00", "\ufffd").strip()  # kept in the job's mapping
        name = name or f"column_{index}"
        candidate, key = name, name.lower()
        if key in seen:
            n = next_suffix.get(key, 2)
            candidate = f"{name}_{n}"
            while candidate.lower() in seen:
                n += 1
                candidate = f"{name}_{n}"
            next_suffix[key] = n + 1
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def detect_format(head: bytes) -> Format:
    if not head.strip():
        raise EmptyFile("The file is empty.")
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    if head.startswith(_OLE2_MAGIC):
        raise UnrecognisedFile("This is a legacy Excel .xls file; save it as .xlsx or CSV and upload again.")
    encoding = _sniff_encoding(head)
    text = head.decode(encoding, errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("["):
        return "json"
    if text.startswith("{"):
        return "ndjson"
    return "csv"


def _sniff_encoding(head: bytes) -> str:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    if b"\x00" in head:
        raise UnrecognisedFile(
            "Unrecognised file: it is not CSV, TSV, XLSX, JSON or NDJSON (it looks like binary data)."
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1251"


def _check_text(sample: str) -> None:
    if not sample:
        return
    controls = sum(1 for ch in sample if ch in _CONTROL)
    if controls / len(sample) > 0.01:
        raise UnrecognisedFile(
            "Unrecognised file: it is not CSV, TSV, XLSX, JSON or NDJSON (it looks like binary data)."
        )


def _whole_file_is_utf8(stream: IO[bytes]) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    stream.seek(0)
    try:
        while block := stream.read(1024 * 1024):
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        stream.seek(0)
    return True


def text_encoding(stream: IO[bytes], head: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else cp1251 (what Excel writes on Russian Windows).

    A head that is plain UTF-8 only decides when it already has non-ASCII text; an all-ASCII head is
    settled by scanning the whole file, so Cyrillic first seen on row 50,000 still decodes right.
    """
    encoding = _sniff_encoding(head)
    if encoding == "utf-8" and head.isascii() and not _whole_file_is_utf8(stream):
        encoding = "cp1251"
    _check_text(head.decode(encoding, errors="replace"))
    return encoding


def sniff_delimiter(sample: str) -> str | None:
    """The candidate giving the most consistent column count (> 1) over the sampled records."""
    lines = sample.splitlines(keepends=True)
    if len(lines) > 1:
        lines = lines[:-1]  # the last line of a sample may be cut short
    text = "".join(lines)
    best: tuple[float, int, int] | None = None
    choice = None
    for rank, delimiter in enumerate(DELIMITERS):
        try:
            records = [
                r for r in itertools.islice(csv.reader(io.StringIO(text), delimiter=delimiter), 200) if r
            ]
        except csv.Error:
            continue
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        rest = records[1:] or records
        consistency = sum(len(r) == width for r in rest) / len(rest)
        score = (consistency, width, -rank)
        if best is None or score > best:
            best, choice = score, delimiter
    return choice


def _beyond_header(record: list[str], width: int) -> dict[str, Any]:
    """A record's cells right of the header as ``column_N``; a record with a value past
    ``MAX_COLUMNS`` is marked rejected instead. The blank checks run in C (``join``)."""
    if not "".join(record[width:]).strip():
        return {}
    if "".join(record[bounds.MAX_COLUMNS :]).strip():
        detail = f"the row has values past column {bounds.MAX_COLUMNS}; at most that many are read"
        return {ROW_ERROR: ("too_many_columns", detail)}
    return {f"column_{i}": v for i, v in enumerate(record[width : bounds.MAX_COLUMNS], start=width + 1)}


class CsvReader:
    def __init__(self, stream: IO[bytes], head: bytes) -> None:
        self._stream = stream
        encoding = text_encoding(stream, head)
        stream.seek(0)
        self._text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
        sample = self._text.read(bounds.SNIFF_BYTES)
        delimiter = sniff_delimiter(sample) or ","
        self._text.seek(0)
        self._line = 0
        self._header_row = 0
        self._delimiter = delimiter
        header = self._first_record(delimiter)
        if header is None:
            raise EmptyFile("The file has no rows.")
        if len(header) > bounds.MAX_COLUMNS:
            raise TooManyColumns(
                f"The header has {len(header)} columns; at most {bounds.MAX_COLUMNS} are read."
            )
        # The data rows, read on from where the header ended, each line bounded.
        self._data_lines = self._lines(bounds.MAX_LINE_CHARS, per_line=True)
        self._reader = csv.reader(self._data_lines, delimiter=delimiter)
        self.info = FileInfo(
            format="csv",
            encoding="utf-8" if encoding == "utf-8-sig" else encoding,
            delimiter=delimiter,
            columns=unique_columns(header),
        )
        self.header_cells: list[Any] = header

    def _lines(
        self, limit: int, *, per_line: bool, readline: Callable[[int], str] | None = None
    ) -> Iterator[str]:
        """The text's lines for the csv module, refusing a line (or, for the header, all the lines
        read) over ``limit`` characters before the csv module splits it into cells."""
        readline, budget = readline or self._text.readline, limit
        while line := readline(budget + 1):
            self._line += 1
            budget -= len(line)
            if budget < 0:
                if not per_line:
                    raise TooManyColumns(
                        f"The header is longer than {limit // 1024} KiB (it reads past line {self._line}); "
                        f"at most {bounds.MAX_COLUMNS} columns are read."
                    )
                raise FileUnreadable(f"Line {self._line} is longer than {limit:,} characters.")
            yield line
            if per_line:
                budget = limit

    def _first_record(self, delimiter: str) -> list[str] | None:
        reader = csv.reader(self._lines(bounds.MAX_HEADER_CHARS, per_line=False), delimiter=delimiter)
        try:
            for record in reader:
                self._header_row += 1
                if any(cell.strip() for cell in record):
                    return [cell.lstrip("\ufeff") for cell in record]
        except csv.Error as exc:
            raise FileUnreadable(f"The CSV is malformed near line {self._line}: {exc}.") from exc
        return None

    def set_headerless(self) -> None:
        self.info.has_header = False
        self.info.columns = [f"column_{i}" for i in range(1, len(self.header_cells) + 1)]

    def rows(self) -> Iterator[RawRow]:
        number = self._header_row
        if not self.info.has_header:
            yield number, dict(zip(self.info.columns, self.header_cells, strict=False))
        yield from self._csv_rows(self._reader, number)

    def _csv_rows(self, records: Iterator[list[str]], number: int) -> Iterator[RawRow]:
        """The rows of the csv module's ``records``, numbered on from ``number``."""
        columns = self.info.columns
        width = len(columns)
        try:
            for record in records:
                number += 1
                if not any(record):
                    continue
                if len(record) > width and (extra := _beyond_header(record, width)):
                    yield number, {**dict(zip(columns, record, strict=False)), **extra}
                    continue
                yield number, dict(zip(columns, record, strict=False))
        except csv.Error as exc:
            raise FileUnreadable(f"The CSV is malformed at row {number + 1}: {exc}.") from exc

    def batches(self, size: int) -> Iterator[list[RawRow] | ColumnBatch]:
        """The data rows ``size`` lines at a time, for bulk normalizing (``columnar``).

        A block of plain lines (``columnar.plain_lines``: no quote, no lone CR, none near the csv
        module's field limit) splits on the delimiter exactly as the csv module splits it, so it comes
        whole as a ``ColumnBatch``. From the first block that is not plain on, the rest of the file is
        read by the csv module, as ``rows()`` reads it, in lists of ``size`` rows."""
        number = self._header_row
        first: list[RawRow] = []
        if not self.info.has_header:
            first = [(number, dict(zip(self.info.columns, self.header_cells, strict=False)))]
        carry: list[str] = []
        eof = False
        while True:
            while len(carry) < size and not eof:
                text = self._text.read(columnar.BLOCK_CHARS)
                if not text:
                    eof = True
                    break
                if not text.endswith("\n"):  # finish the last line, bounded as ``_lines`` bounds it
                    text += self._text.readline(bounds.MAX_LINE_CHARS + 1)
                lines = columnar.plain_lines(text)
                if lines is None:
                    yield from self._csv_batches(first, carry, text, number, size)
                    return
                carry += lines
            if not carry and not first:
                return
            take, carry = carry[:size], carry[size:]
            self._line += len(take)
            yield ColumnBatch(self.info.columns, self._delimiter, number + 1, take, first, _beyond_header)
            number += len(take)
            first = []

    def _csv_batches(
        self, first: list[RawRow], carry: list[str], text: str, number: int, size: int
    ) -> Iterator[list[RawRow]]:
        """The rest of the file by the csv module: the plain lines not given out yet, then ``text``
        (read, not split yet), then the file on from there, each line bounded as ``_lines`` does."""
        pending = io.StringIO("".join(line + "\n" for line in carry) + text, newline="").readline
        lines = itertools.chain(
            self._lines(bounds.MAX_LINE_CHARS, per_line=True, readline=pending), self._data_lines
        )
        records = csv.reader(lines, delimiter=self._delimiter)
        rows = itertools.chain(first, self._csv_rows(records, number))
        while chunk := list(itertools.islice(rows, size)):
            yield chunk

    def bytes_read(self) -> int:
        return self._stream.tell()
