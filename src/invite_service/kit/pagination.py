"""Keyset pagination: opaque cursors over (sort value, id), stable under inserts."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from invite_service.errors import FieldError, InvalidInput
from invite_service.kit.inputs import in_int64, no_nul, to_utc

T = TypeVar("T")
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None
    total: int


class TotalOnAskPage(BaseModel, Generic[T]):
    """A keyset page whose ``total`` costs nothing unless asked for: counting reads every match, so it is
    null unless the request asks (``with_total=true``) or the first page already holds every match."""

    items: list[T]
    next_cursor: str | None
    total: int | None


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
    if isinstance(value, dict) and len(value) == 1:
        tag, text = next(iter(value.items()))
        if tag in ("t", "u") and not isinstance(text, str):
            raise TypeError("a tagged cursor value is a string")
        if tag == "t":
            return datetime.fromisoformat(text)
        if tag == "u":
            return uuid.UUID(text)
    return value


def _typed(value: Any, python_type: type[Any]) -> Any:
    """``value`` as a value of a column of ``python_type``, or ``ValueError``/``TypeError``.

    A cursor is client input: a value of the wrong type would reach the query and fail there (a 500).
    """
    if issubclass(python_type, Enum):  # before str: a StrEnum is both
        if not isinstance(value, str):
            raise TypeError("not an enum value")
        return python_type(value)
    if python_type is datetime:
        if not isinstance(value, datetime):
            raise TypeError("not a datetime")
        return to_utc(value)
    if python_type is uuid.UUID:
        if not isinstance(value, uuid.UUID):
            raise TypeError("not a uuid")
        return value
    if python_type is int:
        if type(value) is not int:  # bool is an int: refused
            raise TypeError("not an integer")
        return in_int64(value)  # BIGINT on PostgreSQL, INTEGER on SQLite
    if python_type is str:
        if not isinstance(value, str):
            raise TypeError("not a string")
        return no_nul(value)
    raise TypeError(f"no cursor values for a {python_type.__name__} column")


def encode_cursor(sort: SortSpec, values: Sequence[Any]) -> str:
    raw = json.dumps({"s": sort.field, "d": sort.descending, "v": [_jsonable(v) for v in values]})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: SortSpec, columns: Sequence[InstrumentedAttribute[Any]]) -> list[Any]:
    """The cursor's values, one for each of ``columns`` and of its type, or a 422 naming ``cursor``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(data, dict) or data.get("s") != sort.field or data.get("d") is not sort.descending:
            raise ValueError("cursor was made for another sort")
        values = data.get("v")
        if not isinstance(values, list) or len(values) != len(columns):
            raise ValueError("cursor has the wrong number of values")
        return [_typed(_restore(v), c.type.python_type) for v, c in zip(values, columns, strict=True)]
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
    return stmt.where(_after(columns, decode_cursor(cursor, sort, columns), sort.descending))


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
