"""The outcome reasons catalogue: every error code the engine or an adapter can record on a target or a
log row, with what it means to a user who is not technical, in English and Russian (contract §2).

``kind``: "success" — the call did what was asked; "benign" — nothing went wrong for the user (already a
member, suppressed, opted out); "retryable" — back to pending can help (a transient fault, a platform
wait, an account problem); "final" — a retry cannot help (a deleted user, a privacy refusal, a name that
does not exist).
"""

from __future__ import annotations

from typing import Literal

from invite_service.statistics.schemas import ReasonCatalogue, ReasonOut

Kind = Literal["success", "benign", "retryable", "final"]

# code -> (kind, English, Russian)
REASONS: dict[str, tuple[Kind, str, str]] = {}


def catalogue() -> ReasonCatalogue:
    return ReasonCatalogue(
        reasons=[ReasonOut(code=code, kind=kind, en=en, ru=ru) for code, (kind, en, ru) in REASONS.items()]
    )


def sentence(code: str | None, lang: str = "en") -> str:
    """The sentence for ``code`` in ``lang`` ("en" or "ru"); an unknown code is shown as itself."""
    if not code:
        return ""
    entry = REASONS.get(code)
    if entry is None:
        return code
    return entry[2] if lang == "ru" else entry[1]
