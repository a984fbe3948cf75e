"""Validated input types shared by query parameters, request bodies and pagination cursors.

``Instant``: an aware datetime, normalised to UTC, kept a year inside what ``datetime`` can hold. At
the calendar's edges an offset pushes the UTC value out of range (``0001-01-01T00:00:00+14:00``), and
the arithmetic that ranges and schedules do (an hour, a day, a week) would overflow next to them: either
would be a 500, so such values are refused as invalid input instead.

``Text``: a string without NUL characters. PostgreSQL refuses NUL in text, so one that reaches a query
is a database error (500) rather than the caller's mistake (422). ``InputModel``, the base of request
bodies, holds every string in them (at any depth, keys included) to the same rule.

``RowId``: an integer id from a path or a body, within the 64-bit range of the id columns (a larger one
overflows the database driver).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, Field, field_validator

INSTANT_MIN = datetime(2, 1, 1, tzinfo=UTC)
INSTANT_MAX = datetime(9998, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
_RANGE = f"must be between {INSTANT_MIN:%Y-%m-%d} and {INSTANT_MAX:%Y-%m-%d} (UTC)"


def to_utc(value: datetime) -> datetime:
    """``value`` in UTC; ``ValueError`` when it is naive or outside ``INSTANT_MIN``..``INSTANT_MAX``."""
    if value.utcoffset() is None:
        raise ValueError("must include a timezone offset")
    try:
        utc = value.astimezone(UTC)
    except OverflowError as exc:  # the offset moves it past year 1 or 9999
        raise ValueError(_RANGE) from exc
    if not INSTANT_MIN <= utc <= INSTANT_MAX:
        raise ValueError(_RANGE)
    return utc


def iso_only(value: Any) -> Any:
    """Refuse a number (or a numeric string) where a date-time is expected: pydantic would read it as a
    Unix time, which the document does not promise and a caller sending ``0.5`` surely did not mean."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("must be an ISO 8601 date-time with a timezone offset")
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return value
        raise ValueError("must be an ISO 8601 date-time with a timezone offset")
    return value


def no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _no_nul_inside(value: Any) -> Any:
    if isinstance(value, str):
        no_nul(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nul_inside(key)
            _no_nul_inside(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _no_nul_inside(item)
    return value  # a nested InputModel checked its own fields


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def in_int64(value: int) -> int:
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError("must fit in a signed 64-bit integer")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(iso_only), AfterValidator(to_utc)]
Text = Annotated[str, AfterValidator(no_nul)]
# Bounds in the schema (so the OpenAPI document says them) rather than a validator: ids start at 1.
RowId = Annotated[int, Field(ge=1, le=INT64_MAX)]


class InputModel(BaseModel):
    """Base of request bodies: a NUL in any string of a field is a 422 naming the field."""

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return _no_nul_inside(value)
