"""Keyset pagination: opaque cursors over (sort value, id), stable under inserts."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from invite_service.errors import FieldError, InvalidInput

T = TypeVar("T")
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None
    total: int


@dataclass(frozen=True)
class SortSpec:
    """A sort parsed from ``sort=name`` / ``sort=-created_at``."""

    field: str
    descending: bool

    @classmethod
    def parse(cls, raw: str, allowed: Sequence[str], *, param: str = "sort") -> SortSpec:
        descending = raw.startswith("-")
        field = raw.lstrip("-+")
        if field not in allowed:
            raise InvalidInput(
                errors=[
                    FieldError(
                        ("query", param), f"must be one of {', '.join(allowed)}, optionally prefixed by '-'"
                    )
                ]
            )
        return cls(field, descending)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def _restore(value: Any) -> Any:
    if isinstance(value, dict):
        if "t" in value:
            return datetime.fromisoformat(value["t"])
        if "u" in value:
            return uuid.UUID(value["u"])
    return value


def encode_cursor(sort: SortSpec, values: Sequence[Any]) -> str:
    raw = json.dumps({"s": sort.field, "d": sort.descending, "v": [_jsonable(v) for v in values]})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: SortSpec) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if data["s"] != sort.field or data["d"] != sort.descending:
            raise ValueError("cursor was made for another sort")
        return [_restore(v) for v in data["v"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(
            errors=[FieldError(("query", "cursor"), "is not a cursor from this list with this sort")]
        ) from exc


def keyset_page(
    stmt: Select[Any],
    columns: Sequence[InstrumentedAttribute[Any]],
    sort: SortSpec,
    cursor: str | None,
    limit: int,
) -> Select[Any]:
    """Order ``stmt`` by ``columns`` (the sort column, then a unique tiebreaker) and seek past the cursor.

    Fetches ``limit + 1`` rows so the caller can tell whether a next page exists.
    """
    order = [c.desc() if sort.descending else c.asc() for c in columns]
    stmt = stmt.order_by(*order).limit(limit + 1)
    if cursor is None:
        return stmt
    values = decode_cursor(cursor, sort)
    if len(values) != len(columns):
        raise InvalidInput(errors=[FieldError(("query", "cursor"), "is malformed")])
    return stmt.where(_after(columns, values, sort.descending))


def _after(
    columns: Sequence[InstrumentedAttribute[Any]], values: Sequence[Any], desc: bool
) -> ColumnElement[bool]:
    # (a, b) > (x, y)  <=>  a > x OR (a = x AND b > y); spelled out for SQLite and NULL-free columns.
    clauses = []
    for i, col in enumerate(columns):
        equal = [columns[j] == values[j] for j in range(i)]
        step = col < values[i] if desc else col > values[i]
        clauses.append(and_(*equal, step))
    return or_(*clauses)


def split_page(rows: Sequence[T], limit: int, sort: SortSpec, key: Any) -> tuple[list[T], str | None]:
    """Cut the extra row off and make the next cursor from the last row kept."""
    items = list(rows[:limit])
    if len(rows) <= limit or not items:
        return items, None
    return items, encode_cursor(sort, key(items[-1]))
