"""Account rows: who owns them, their encrypted session and the platform's waits and restrictions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from integration_service.db import accounts

# Telegram gives PEER_FLOOD no end; a day, after which the next call tells again.
PEER_FLOOD_HOLD = timedelta(hours=24)


class AccountNotFound(Exception):
    pass


class AccountStore:
    def __init__(self, engine: AsyncEngine, clock: Callable[[], datetime]) -> None:
        self._engine, self._clock = engine, clock

    async def create(
        self,
        *,
        user_id: str,
        label: str,
        session_ciphertext: bytes,
        telegram_user_id: int | None = None,
        username: str | None = None,
        is_premium: bool = False,
        phone: str | None = None,
        account_id: str | None = None,
    ) -> str:
        account_id = account_id or f"tg-{uuid.uuid4().hex[:12]}"
        now = self._clock()
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(accounts).values(
                    id=account_id,
                    user_id=user_id,
                    platform="telegram",
                    label=label,
                    telegram_user_id=None if telegram_user_id is None else str(telegram_user_id),
                    username=username,
                    is_premium=is_premium,
                    phone_hint=phone[-2:] if phone else None,  # never the whole number
                    session_ciphertext=session_ciphertext,
                    status="active",
                    created_at=now,
                    updated_at=now,
                )
            )
        return account_id

    async def get(self, account_id: str) -> Any:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(accounts).where(accounts.c.id == account_id))).first()
        if row is None:
            raise AccountNotFound(account_id)
        return row

    async def list(self, user_id: str | None = None) -> list[Any]:
        query = select(accounts).order_by(accounts.c.created_at, accounts.c.id)
        if user_id is not None:
            query = query.where(accounts.c.user_id == user_id)
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).all())

    async def set(self, account_id: str, **values: Any) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(accounts).where(accounts.c.id == account_id).values(**values, updated_at=self._clock())
            )

    async def delete(self, account_id: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(delete(accounts).where(accounts.c.id == account_id))

    async def note_error(self, account_id: str, code: str, rpc_code: int, retry_after: int | None) -> None:
        """What a Telegram refusal says about the account itself (waits, restrictions, a dead session)."""
        now = self._clock()
        if rpc_code == 420 and retry_after and code.startswith("FLOOD"):
            await self.set(account_id, flood_wait_until=now + timedelta(seconds=retry_after))
        elif code in ("PEER_FLOOD", "USER_RESTRICTED"):
            await self.set(
                account_id, status="restricted", status_detail=code, restricted_until=now + PEER_FLOOD_HOLD
            )
        elif rpc_code == 401:  # the session class: revoked, unregistered, deactivated, banned
            await self.set(account_id, status="unavailable", status_detail=code)

    def wire(self, row: Any) -> dict[str, Any]:
        """The contract's ``Account``; waits that have passed are no longer reported."""
        now = self._clock()
        flood = _aware(row.flood_wait_until)
        restricted = _aware(row.restricted_until)
        flood = flood if flood is not None and flood > now else None
        restricted = restricted if restricted is not None and restricted > now else None
        status = row.status
        if status == "restricted" and restricted is None:
            status = "active"  # the hold has passed; the next call tells again
        if status == "active" and flood is not None:
            status = "flood_wait"
        return {
            "id": row.id,
            "user_id": row.user_id,
            "platform": row.platform,
            "label": row.label,
            "username": row.username,
            "is_premium": bool(row.is_premium),
            "status": status,
            "flood_wait_until": flood.isoformat() if flood else None,
            "restricted_until": restricted.isoformat() if restricted else None,
            "status_detail": row.status_detail if status != "active" else None,
        }


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    from datetime import UTC

    return value.replace(tzinfo=UTC)
