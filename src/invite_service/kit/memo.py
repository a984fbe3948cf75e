"""A small per-process memo: values kept for a few seconds, the oldest dropped past a size."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class TtlMemo:
    def __init__(
        self, ttl_seconds: float, max_entries: int, *, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl, self._max, self._now = ttl_seconds, max_entries, now
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()

    def get(self, key: Hashable) -> Any | None:
        entry = self._entries.get(key)
        if entry is None or self._now() - entry[0] >= self._ttl:
            return None
        return entry[1]

    def put(self, key: Hashable, value: Any) -> None:
        self._entries[key] = (self._now(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
