"""Inbound replies: private messages to an account go to the Invite Service through a durable outbox.

A raw-update handler on every client keeps incoming (``out=False``) private messages from users and
inserts an outbox row (id ``<account_id>:<message_id>``, so a repeated update is one event). The
poster delivers due rows to ``events_url`` with a service JWT (iss=sub=integration-service,
aud=invite-service): a 2xx marks the row delivered, a 4xx marks it failed (never retried), a 5xx or a
connection failure backs off exponentially. Rows live in the database, so a restart loses nothing.
Listening needs connected clients: with ``listen`` (the default) ``serve`` connects every active account.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from telethon import types

from integration_service.db import outbox_events
from invite_service.kit.service_http import INTEGRATION_SERVICE_NAME, SERVICE_NAME, mint_service_token

log = structlog.get_logger(__name__)

TOKEN_TTL_SECONDS = 60
RAW_UPDATES = (types.UpdateNewMessage, types.UpdateShortMessage)


def mint_event_token(secret: str, now: float | None = None) -> str:
    """The token on every event: from this service to the Invite Service."""
    return mint_service_token(
        secret, audience=SERVICE_NAME, issuer=INTEGRATION_SERVICE_NAME, now=now, ttl_seconds=TOKEN_TTL_SECONDS
    )


def incoming_private(update: Any) -> tuple[int, str, int, datetime] | None:
    """(from user id, text, message id, date) of an incoming private text message, else None."""
    if isinstance(update, types.UpdateShortMessage):
        if update.out or not update.message:
            return None
        return update.user_id, update.message, update.id, update.date
    if isinstance(update, types.UpdateNewMessage) and isinstance(update.message, types.Message):
        message = update.message
        sender = message.from_id if message.from_id is not None else message.peer_id
        if message.out or not message.message or not isinstance(message.peer_id, types.PeerUser):
            return None
        if not isinstance(sender, types.PeerUser):
            return None
        return sender.user_id, message.message, message.id, message.date
    return None


class Outbox:
    def __init__(self, engine: AsyncEngine, clock: Callable[[], datetime]) -> None:
        self._engine, self._clock = engine, clock
        self.wake = asyncio.Event()

    async def add(self, event: dict[str, Any]) -> bool:
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(outbox_events).values(
                        id=event["id"],
                        account_id=event["account_id"],
                        body=event,
                        status="pending",
                        attempts=0,
                        next_attempt_at=self._clock(),
                    )
                )
        except IntegrityError:
            return False  # the same message again (a re-delivered update): one event
        self.wake.set()
        return True

    async def due(self, limit: int = 50) -> list[Any]:
        query = (
            select(outbox_events)
            .where(outbox_events.c.status == "pending", outbox_events.c.next_attempt_at <= self._clock())
            .order_by(outbox_events.c.next_attempt_at)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).all())

    async def depth(self) -> int:
        query = select(func.count()).select_from(outbox_events).where(outbox_events.c.status == "pending")
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def next_due(self) -> datetime | None:
        query = select(func.min(outbox_events.c.next_attempt_at)).where(outbox_events.c.status == "pending")
        async with self._engine.connect() as conn:
            value: datetime | None = (await conn.execute(query)).scalar_one()
            return value

    async def mark(self, event_id: str, **values: Any) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(update(outbox_events).where(outbox_events.c.id == event_id).values(**values))

    async def prune(self, retention: timedelta) -> int:
        """Forget rows delivered or dropped longer ago than ``retention`` (pending ones stay)."""
        cutoff = self._clock() - retention
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(outbox_events).where(
                    outbox_events.c.status != "pending", outbox_events.c.next_attempt_at < cutoff
                )
            )
        return int(result.rowcount or 0)

    async def get(self, event_id: str) -> Any:
        async with self._engine.connect() as conn:
            query = select(outbox_events).where(outbox_events.c.id == event_id)
            return (await conn.execute(query)).first()


def reply_handler(outbox: Outbox, account_id: str, owner: str, client: Any) -> Callable[[Any], Any]:
    """The raw-update callback registered on one account's client."""

    async def handle(update: Any) -> None:
        found = incoming_private(update)
        if found is None:
            return
        user_id, text, message_id, date = found
        username = phone = None
        try:  # cheap when the sender is in the session's entity cache; else null
            entity = await client.get_entity(user_id)
            if getattr(entity, "bot", False):
                return  # a bot's message is not a person's reply
            username = getattr(entity, "username", None)
            phone = f"+{entity.phone}" if getattr(entity, "phone", None) else None
        except (ValueError, OSError):
            pass
        event = {
            "id": f"{account_id}:{message_id}",
            "type": "message_received",
            "platform": "telegram",
            "account_id": account_id,
            "user_id": owner,
            "peer": {"user_id": str(user_id), "username": username, "phone": phone},
            "text": text[:4096],
            "message_id": message_id,
            "date": date.isoformat(),
        }
        if await outbox.add(event):
            log.info("reply_queued", account_id=account_id, event_id=event["id"])

    return handle


class Poster:
    """Delivers the outbox to the Invite Service until stopped."""

    def __init__(
        self,
        outbox: Outbox,
        url: str,
        secret: str,
        clock: Callable[[], datetime],
        *,
        backoff_initial: float,
        backoff_max: float,
        poll_seconds: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._outbox, self._url, self._secret, self._clock = outbox, url, secret, clock
        self._initial, self._max, self._poll = backoff_initial, backoff_max, poll_seconds
        self._http = httpx.AsyncClient(timeout=10.0, transport=transport)
        self.on_result: Callable[[str], None] = lambda _outcome: None

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self.deliver_due()
                except Exception:  # the database hiccuped: the rows are still there next round
                    log.exception("outbox_round_failed")
                self._outbox.wake.clear()
                wait = self._poll
                next_due = await self._outbox.next_due()
                if next_due is not None:
                    wait = min(wait, max(0.0, (_aware(next_due) - self._clock()).total_seconds()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._outbox.wake.wait(), timeout=max(wait, 0.01))
        finally:
            await self._http.aclose()

    async def deliver_due(self) -> None:
        for row in await self._outbox.due():
            await self._deliver(row)

    async def _deliver(self, row: Any) -> None:
        headers = {"Authorization": f"Bearer {mint_event_token(self._secret)}"}
        try:
            response = await self._http.post(self._url, json=row.body, headers=headers)
        except httpx.HTTPError as exc:
            await self._retry(row, type(exc).__name__)
            return
        if response.is_success:
            await self._outbox.mark(
                row.id, status="delivered", delivered_at=self._clock(), attempts=row.attempts + 1
            )
            self.on_result("delivered")
        elif response.status_code >= 500 or response.status_code == 429:
            await self._retry(row, f"HTTP {response.status_code}")
        else:
            # A 4xx is an answer: the event is wrong for the Invite Service, and a resend would be too.
            await self._outbox.mark(
                row.id, status="failed", attempts=row.attempts + 1, last_error=f"HTTP {response.status_code}"
            )
            log.warning("reply_dropped", event_id=row.id, status=response.status_code)
            self.on_result("failed")

    async def _retry(self, row: Any, why: str) -> None:
        delay = min(self._initial * (2**row.attempts), self._max)
        await self._outbox.mark(
            row.id,
            attempts=row.attempts + 1,
            last_error=why,
            next_attempt_at=self._clock() + timedelta(seconds=delay),
        )
        log.info("reply_retry", event_id=row.id, attempt=row.attempts + 1, error=why, wait_seconds=delay)
        self.on_result("retry")


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
