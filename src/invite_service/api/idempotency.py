"""``Idempotency-Key`` on creating POSTs: the first response is stored and replayed.

The stored row is written in the same transaction as the work itself, so a replay
exists exactly when the work committed. Two concurrent first requests with one key
collide on the primary key and the loser gets a 409 (``get_session``).

A stored response is replayed for ``INVITE_RETENTION_IDEMPOTENCY_HOURS`` (24 h); after that the key is
fresh again, whether or not the retention job has deleted the old row yet (the request deletes it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.config import Settings
from invite_service.errors import FieldError, InvalidInput
from invite_service.kit.clock import utcnow
from invite_service.models import IdempotencyKey
from invite_service.retention.policy import idempotency_ttl

MAX_KEY_LENGTH = 200


def request_hash(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(
            errors=[
                FieldError(("header", "Idempotency-Key"), f"must be 1-{MAX_KEY_LENGTH} printable characters")
            ]
        )
    return key


async def lookup(
    session: AsyncSession,
    user_id: str,
    scope: str,
    key: str,
    body_hash: str,
    expires_after: timedelta | None = None,
) -> IdempotencyKey | None:
    """The stored response for this key, or None; a different body under the same key is a 422.

    A row older than ``expires_after`` is deleted here (in the request's transaction, so the new
    response can take its key) and the request is a fresh one."""
    where = (IdempotencyKey.user_id == user_id, IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    row = (await session.scalars(select(IdempotencyKey).where(*where))).one_or_none()
    if row is not None and expires_after is not None and row.created_at <= utcnow() - expires_after:
        await session.delete(row)
        await session.flush()  # before the new response takes the same key
        return None
    if row is not None and row.request_hash != body_hash:
        raise InvalidInput(
            "This Idempotency-Key was used with a different request body.",
            errors=[FieldError(("header", "Idempotency-Key"), "was already used with another body")],
        )
    return row


async def store(
    session: AsyncSession, user_id: str, scope: str, key: str, body_hash: str, status_code: int, response: Any
) -> None:
    session.add(
        IdempotencyKey(
            user_id=user_id,
            scope=scope,
            key=key,
            request_hash=body_hash,
            status_code=status_code,
            response=response,
        )
    )
    await session.flush()


async def idempotent(
    session: AsyncSession,
    settings: Settings,
    user_id: str,
    scope: str,
    key: str | None,
    body: BaseModel,
    status_code: int,
    run: Callable[[], Awaitable[BaseModel]],
) -> JSONResponse:
    """Run ``run`` once per (user, scope, key, body); replay its response for a repeat."""
    if key is None:
        result = await run()
        return JSONResponse(jsonable_encoder(result), status_code=status_code)
    check_key(key)
    body_hash = request_hash(body.model_dump(mode="json"))
    stored = await lookup(session, user_id, scope, key, body_hash, idempotency_ttl(settings))
    if stored is not None:
        return JSONResponse(
            stored.response, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"}
        )
    payload = jsonable_encoder(await run())
    await store(session, user_id, scope, key, body_hash, status_code, payload)
    return JSONResponse(payload, status_code=status_code)
