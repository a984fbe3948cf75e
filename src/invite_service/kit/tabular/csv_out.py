"""CSV downloads: files start with a UTF-8 BOM so Excel shows Cyrillic right, and free-text cells that a
spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) are prefixed with ``'``. ``neutralize`` is
the one rule for every CSV download (header rows included); the XLSX report writes typed string cells
instead (``statistics/task_report.py``).

Callers stream a page (``PAGE`` rows) at a time, each read in a short session of its own: the request's
session is closed before a streamed body is sent.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

PAGE = 2000
BOM = "\ufeff"
# The fullwidth forms (U+FF1D, U+FF0B, U+FF0D, U+FF20) too: spreadsheets may fold them to ASCII.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Invisible characters a spreadsheet may drop before it looks at the first one: zero-width space,
# non-joiner and joiner, word joiner, and a byte order mark.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


def neutralize(value: Any) -> Any:
    """A text cell a spreadsheet would evaluate gets a leading ``'`` (shown as the text it is)."""
    if isinstance(value, str) and value.lstrip(_INVISIBLE).startswith(_FORMULA_START):
        return "'" + value
    return value


def header(columns: Sequence[str]) -> str:
    """The header line: column names can come from an uploaded file, so they are cells like any other."""
    return csv_lines([[neutralize(c) for c in columns]])


def csv_lines(rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows(rows)
    return buf.getvalue()


def cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return neutralize(value)
