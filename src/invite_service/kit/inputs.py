"""Validated input types shared by query parameters, request bodies and pagination cursors.

``Instant``: an aware datetime, normalised to UTC, kept a year inside what ``datetime`` can hold. At
the calendar's edges an offset pushes the UTC value out of range (``0001-01-01T00:00:00+14:00``), and
the arithmetic that ranges and schedules do (an hour, a day, a week) would overflow next to them: either
would be a 500, so such values are refused as invalid input instead.

``Text``: a string without NUL characters. PostgreSQL refuses NUL in text, so one that reaches a query
is a database error (500) rather than the caller's mistake (422).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

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


def no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(to_utc)]
Text = Annotated[str, AfterValidator(no_nul)]
