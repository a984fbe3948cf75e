"""Remembered mappings: the mapping a user last imported a file of a given header with.

A header is known by its normalized column list (``header_key`` of each column, in order), hashed
(``signature``). The mapping is kept as the field of each column by position, so a file whose header
differs only in case or spacing (``Телефон`` / ``телефон ``) gets it too. Every finished file import
with a header stores its resolved mapping (``pipeline.merge``); ``POST /import/validate`` without a
``mapping`` offers it again (``ValidateOut.remembered``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from invite_service.kit.tabular.mapping import header_key

_SEPARATOR = "\x1f"  # the unit separator: no header cell normalizes to it


def signature(columns: Sequence[str]) -> str:
    normalized = _SEPARATOR.join(header_key(str(c)) for c in columns)
    return hashlib.sha256(normalized.encode("utf-8", "surrogatepass")).hexdigest()


def stored(columns: Sequence[str], resolved: Mapping[str, str | None]) -> dict[str, Any]:
    """What is stored for a resolved mapping: each column's field (None: ignored), in column order."""
    return {"fields": [resolved.get(c) for c in columns]}


def offered(columns: Sequence[str], stored_value: Mapping[str, Any]) -> dict[str, str | None] | None:
    """The stored mapping for this file's columns, or None when it does not fit them."""
    fields = stored_value.get("fields")
    if not isinstance(fields, list) or len(fields) != len(columns):
        return None
    if not all(f is None or isinstance(f, str) for f in fields):
        return None
    return dict(zip(columns, fields, strict=True))
