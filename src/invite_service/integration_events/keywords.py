"""Does a reply opt the person out? Keyword matching on the reply's normalised text.

Normalised: casefolded, whitespace runs collapsed, punctuation and symbols stripped at both ends. A reply
opts out when it equals a keyword or starts with one followed by a space or punctuation: "STOP",
"stop.", "stop writing to me" do (so do their Russian twins); "stopwatch" does not.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def _is_edge(char: str) -> bool:
    return char.isspace() or unicodedata.category(char)[0] in {"P", "S"}


def normalise(text: str) -> str:
    folded = " ".join(text.casefold().split())
    start, end = 0, len(folded)
    while start < end and _is_edge(folded[start]):
        start += 1
    while end > start and _is_edge(folded[end - 1]):
        end -= 1
    return folded[start:end]


def is_opt_out(text: str, keywords: Iterable[str]) -> bool:
    reply = normalise(text)
    for raw in keywords:
        keyword = normalise(raw)
        if not keyword or not reply.startswith(keyword):
            continue
        if len(reply) == len(keyword) or _is_edge(reply[len(keyword)]):
            return True
    return False
