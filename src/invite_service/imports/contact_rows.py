"""What an import into an audience reads besides a target's values: consent and tags.

A consent column (``Дата согласия`` maps to the field ``consent_date`` by itself; ``consent_at`` too) is
parsed into the contact's ``consent_at`` (its source ``import``); a tags column (``tags``/``Теги``) is
split on commas into the contact's tags. Both leave the row's template fields and travel in its staged
JSON under keys no mapped field can have (``@consent_at``, ``@tags``) until the merge
(``contact_merge``) reads them out. A value that does not parse rejects the row, with the reason, in
rejected.csv.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from invite_service.kit.tabular.mapping import Extracted
from invite_service.models.contacts import normalize_tag

CONSENT_FIELDS = ("consent_date", "consent_at")
TAGS_FIELD = "tags"
# Keys of the staged JSON: "@" is outside a field name's alphabet, so no column maps onto them.
CONSENT_KEY = "@consent_at"
TAGS_KEY = "@tags"
MAX_TAGS = 50
# Naive values are UTC: a CRM export says which day, rarely which zone.
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%y",
    "%d/%m/%Y",
)
# How the merge stores it: the text SQLite's DATETIME columns hold (PostgreSQL casts it, in UTC).
STAGED_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


class BadContactValue(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def parse_consent(value: Any) -> datetime:
    """A consent date or time as an aware UTC datetime; ``BadContactValue`` when it is not one."""
    text = str(value).strip().strip('"')
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:  # ISO 8601 (XLSX date cells arrive so), with or without an offset
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadContactValue(
            "invalid_consent_date", f"{text[:40]!r} is not a date (e.g. 2025-03-01, 01.03.2025 10:00)"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_tags(value: Any) -> list[str]:
    """Comma-separated tags (or a JSON list, as a JSON file's array arrives), normalized, each once."""
    text = str(value)
    parts: list[Any] = [text]
    if text.startswith("["):
        try:
            loaded = json.loads(text)
        except ValueError:
            loaded = None
        if isinstance(loaded, list):
            parts = [str(p) for p in loaded]
    tags: list[str] = []
    for raw in (piece for part in parts for piece in str(part).split(",")):
        if not raw.strip():
            continue
        try:
            tag = normalize_tag(raw)
        except ValueError:
            raise BadContactValue(
                "invalid_tags", f"tag {raw.strip()[:70]!r} is longer than 64 characters"
            ) from None
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise BadContactValue("invalid_tags", f"{len(tags)} tags; a contact holds at most {MAX_TAGS}")
    return tags


def refine(values: Extracted) -> None:
    """Move a row's consent and tags out of its template fields into the staged keys (in place)."""
    extra = values.extra
    consent = None
    for name in CONSENT_FIELDS:
        if name in extra:
            value = extra.pop(name)
            consent = consent or parse_consent(value).strftime(STAGED_FORMAT)
    if consent is not None:
        extra[CONSENT_KEY] = consent
    if TAGS_FIELD in extra:
        tags = parse_tags(extra.pop(TAGS_FIELD))
        if tags:
            extra[TAGS_KEY] = tags
