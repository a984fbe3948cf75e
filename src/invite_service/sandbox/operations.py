"""Operation keys as an Integration Service keeps them: the platform acts at most once per key.

The contract (``docs/contracts/integration-service.yaml``, "Idempotency" and ``GET /v1/operations/{key}``)
asks the service to record a key **before** it calls the platform and the answer after, so that

- a repeat of the key replays the answer (or waits for it while the first call runs);
- a lookup that finds no record proves the platform was never asked for that key.

``OperationStore`` is that record for the sandbox: the in-process adapter keeps ``InviteResult``s in
one, the HTTP sandbox keeps its JSON answers in one and, given a file, survives its own restart. A
record found "in progress" when the file is loaded belongs to a call the process died in: whether the
platform acted is unknowable, so it is completed with the ``interrupted`` answer (an uncertain one),
never forgotten, so the key can never act a second time.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from invite_service.adapters.base import OperationState

T = TypeVar("T")
MAX_KEYS = 1_000_000  # far above a sandbox's traffic; the oldest records go first beyond it


class KeyMismatch(Exception):
    """The key is recorded for another request (another account, operation or body)."""


@dataclass
class _Record(Generic[T]):
    fingerprint: str
    result: T | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class OperationStore(Generic[T]):
    def __init__(
        self,
        *,
        interrupted: T,
        path: Path | None = None,
        encode: Callable[[T], Any] = lambda value: value,
        decode: Callable[[Any], T] = lambda value: value,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self._records: OrderedDict[str, _Record[T]] = OrderedDict()
        self._interrupted = interrupted
        self._path = path
        self._encode, self._decode = encode, decode
        self._max_keys = max_keys
        if path is not None and path.exists():
            self._load(path)

    def __len__(self) -> int:
        return len(self._records)

    def clear(self) -> None:
        self._records.clear()
        if self._path is not None:
            self._path.write_text("")

    def lookup(self, key: str) -> tuple[OperationState, T | None]:
        record = self._records.get(key)
        if record is None:
            return OperationState.UNKNOWN_KEY, None
        if record.result is None:
            return OperationState.IN_PROGRESS, None
        return OperationState.COMPLETED, record.result

    async def run(self, key: str, fingerprint: str, work: Callable[[], Awaitable[T]]) -> T:
        """The answer for ``key``: replayed, awaited while in progress, or ``work()`` done once."""
        record = self._records.get(key)
        if record is not None:
            if record.fingerprint != fingerprint:
                raise KeyMismatch(key)
            if record.result is None:
                await asyncio.shield(record.done.wait())
            assert record.result is not None
            return record.result
        record = self._records[key] = _Record(fingerprint)
        self._write(key, record)  # recorded before the platform is asked
        try:
            result = await work()
        except BaseException:
            # The call died inside: the platform may have acted, so the key never acts again.
            result = self._interrupted
            raise
        finally:
            record.result = result
            record.done.set()
            self._write(key, record)
            self._evict()
        return result

    def _evict(self) -> None:
        while len(self._records) > self._max_keys:
            self._records.popitem(last=False)

    def _write(self, key: str, record: _Record[T]) -> None:
        if self._path is None:
            return
        result = None if record.result is None else self._encode(record.result)
        line = json.dumps({"key": key, "fingerprint": record.fingerprint, "result": result})
        with self._path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")  # the OS keeps it through a crash of this process

    def _load(self, path: Path) -> None:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            raw = item.get("result")
            record = _Record[T](item["fingerprint"], None if raw is None else self._decode(raw))
            self._records[item["key"]] = record
            self._records.move_to_end(item["key"])
        for record in self._records.values():
            if record.result is None:  # the process died during this call
                record.result = self._interrupted
            record.done.set()
        self._evict()
