"""Operation keys, kept durably: the platform acts at most once per ``Idempotency-Key``.

A key is INSERTed ``in_progress`` and committed **before** Telegram is called, and its answer stored
after. A repeat replays the answer; a repeat while the first call runs polls the row (bounded) for it;
the same key with another request (operation, account or body) is ``409 IDEMPOTENCY_KEY_MISMATCH``.
At start-up a row still ``in_progress`` belongs to a call this service died in: whether Telegram acted
is unknowable, so it becomes ``502 OPERATION_INTERRUPTED`` and the key never acts again. Rows are kept
at least 24 hours (``operation_retention_hours``), then pruned.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from integration_service.db import operations

Payload = tuple[int, dict[str, Any]]
Clock = Callable[[], datetime]


def error(status: int, code: str, detail: str | None = None, retry_after: float | None = None) -> Payload:
    """The contract's ``Error`` body (``rpc_code`` null: one of this service's own codes)."""
    return status, {"code": code, "retry_after": retry_after, "detail": detail, "rpc_code": None}


INTERRUPTED: Payload = error(502, "OPERATION_INTERRUPTED", "the service stopped during this call")
MISMATCH: Payload = error(409, "IDEMPOTENCY_KEY_MISMATCH", "the key was used with another request")
STILL_RUNNING: Payload = error(503, "UNAVAILABLE", "the first call of this key is still running")
_POLL_SECONDS = 0.05


class NotSent(Exception):
    """The call provably never reached Telegram: the key is forgotten so a retry may act."""

    def __init__(self, payload: Payload) -> None:
        super().__init__(payload[1]["code"])
        self.payload = payload


def fingerprint_of(operation: str, account_id: str, body: bytes) -> str:
    return f"{operation}|{account_id}|{hashlib.sha256(body).hexdigest()}"


class OperationStore:
    def __init__(self, engine: AsyncEngine, clock: Clock, *, wait_seconds: float = 60) -> None:
        self._engine, self._clock, self._wait = engine, clock, wait_seconds

    async def run(
        self,
        key: str,
        operation: str,
        account_id: str,
        body: bytes,
        work: Callable[[], Awaitable[Payload]],
    ) -> Payload:
        fingerprint = fingerprint_of(operation, account_id, body)
        # ON CONFLICT DO NOTHING: a repeat finds the key taken without an IntegrityError's rollback.
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        claim = (
            dialect.insert(operations)
            .values(
                key=key,
                fingerprint=fingerprint,
                operation=operation,
                account_id=account_id,
                status="in_progress",
                created_at=self._clock(),
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(operations.c.key)
        )
        async with self._engine.begin() as conn:
            claimed = (await conn.execute(claim)).first() is not None
        if not claimed:
            return await self._repeat(key, fingerprint)
        try:
            payload = await work()
        except NotSent as exc:
            async with self._engine.begin() as conn:
                await conn.execute(delete(operations).where(operations.c.key == key))
            return exc.payload
        except BaseException:
            # The call died inside (a bug, a cancellation): the platform may have acted.
            await asyncio.shield(self._complete(key, INTERRUPTED))
            raise
        await self._complete(key, payload)
        return payload

    async def _complete(self, key: str, payload: Payload) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(operations)
                .where(operations.c.key == key)
                .values(
                    status="completed",
                    result_status=payload[0],
                    result_body=payload[1],
                    completed_at=self._clock(),
                )
            )

    async def _repeat(self, key: str, fingerprint: str) -> Payload:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait
        while True:
            row = await self._row(key)
            if row is None:  # the first call never reached Telegram and let the key go: try again
                return STILL_RUNNING
            if row.fingerprint != fingerprint:
                return MISMATCH
            if row.status == "completed":
                return int(row.result_status), dict(row.result_body)
            if loop.time() > deadline:
                return STILL_RUNNING  # a 5xx: the caller retries with the same key
            await asyncio.sleep(_POLL_SECONDS)

    async def _row(self, key: str) -> Any:
        async with self._engine.connect() as conn:
            return (await conn.execute(select(operations).where(operations.c.key == key))).first()

    async def lookup(self, key: str) -> dict[str, Any]:
        """``GET /v1/operations/{key}`` as the contract shapes it."""
        row = await self._row(key)
        if row is None:
            return {"key": key, "status": "unknown_key"}
        answer: dict[str, Any] = {
            "key": key,
            "status": row.status,
            "operation": row.operation,
            "account_id": row.account_id,
        }
        if row.status == "completed":
            answer["result"] = {"status": row.result_status, "body": row.result_body}
        return answer

    async def recover(self) -> int:
        """Complete the calls a previous process died in; return how many."""
        status, body = INTERRUPTED
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(operations)
                .where(operations.c.status == "in_progress")
                .values(
                    status="completed", result_status=status, result_body=body, completed_at=self._clock()
                )
            )
        return int(result.rowcount or 0)

    async def prune(self, retention: timedelta) -> int:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(operations).where(
                    operations.c.status == "completed", operations.c.completed_at < self._clock() - retention
                )
            )
        return int(result.rowcount or 0)
