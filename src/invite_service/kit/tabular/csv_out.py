"""CSV downloads: files start with a UTF-8 BOM so Excel shows Cyrillic right, and free-text cells that a
spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) are prefixed with ``'``.

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


def cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return neutralize(value)
