"""Case-insensitive "contains" search with LIKE, the same on SQLite and PostgreSQL."""

from __future__ import annotations

ESCAPE = "\\"


def contains_pattern(query: str) -> str:
    """``%query%`` for ``lower(col) LIKE … ESCAPE '\\'``, with the user's % and _ taken literally."""
    escaped = query.lower().replace(ESCAPE, ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
