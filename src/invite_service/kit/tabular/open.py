"""``open_reader``: the reader for a file's format (CSV, XLSX, JSON, NDJSON), told from its content."""

from __future__ import annotations

from typing import IO

from invite_service.kit.tabular import bounds
from invite_service.kit.tabular.json_reader import JsonReader
from invite_service.kit.tabular.readers import CsvReader, Reader, detect_format
from invite_service.kit.tabular.xlsx import XlsxReader


def open_reader(stream: IO[bytes], *, sheet: str | None = None) -> Reader:
    """Detect the format from the content and return a reader positioned before the first data row."""
    stream.seek(0)
    head = stream.read(bounds.SNIFF_BYTES)
    stream.seek(0)
    fmt = detect_format(head)
    if fmt == "xlsx":
        return XlsxReader(stream, sheet=sheet)
    if fmt in ("json", "ndjson"):
        return JsonReader(stream, head, ndjson=fmt == "ndjson")
    return CsvReader(stream, head)
