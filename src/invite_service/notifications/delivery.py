"""Sending deliveries: the ``notifications.deliver`` job (one, right after its event commits) and the
``notifications.sweep`` job (every due one: retries, and any whose job was lost).

A sender first leases the delivery in its own short transaction (``repository.claim``), sends with no
transaction open, then records the attempt fenced by that lease; so two workers never send one
delivery at once, and a sender that died leaves it to the sweep once the lease runs out.

Retries follow the schedule the Standard Webhooks specification recommends ("Retry schedule":
immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — about 27 h in all), counted on ``rt.clock``.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.context.runtime import Runtime
from invite_service.kit.clock import utcnow
from invite_service.models.notifications import (
    DeliveryStatus,
    NotificationChannel,
    NotificationDelivery,
    NotificationEvent,
    NotificationEventType,
    WebhookEndpoint,
)
from invite_service.notifications import channels, signing
from invite_service.notifications import repository as repo
from invite_service.notifications.messages import describe
from invite_service.notifications.service import emit
from invite_service.notifications.ssrf import UnsafeTarget, check_http_url

log = structlog.get_logger(__name__)

# Seconds to wait after the 1st, 2nd … failed attempt; the attempt after the last delay is the final one.
RETRY_DELAYS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
SWEEP_CONCURRENCY = 10

Target = WebhookEndpoint | NotificationChannel


@dataclass(frozen=True)
class Attempt:
    ok: bool
    status_code: int | None = None
    error: str | None = None
    final: bool = False  # no point retrying (the endpoint is gone or disabled)
    counts: bool = True  # counts toward the target's failure streak


async def deliver(rt: Runtime, delivery_id: str) -> None:
    """The ``notifications.deliver`` job: send one delivery if it is due and nobody holds it."""
    leased = await _claim(rt, uuid.UUID(delivery_id), 1)
    if leased is None:
        return
    ids, lease = leased
    async with _client(rt) as client:
        for claimed in ids:
            await _attempt(rt, client, claimed, lease)


async def sweep(rt: Runtime) -> int:
    """The ``notifications.sweep`` job: send every due delivery (up to a batch); returns how many."""
    leased = await _claim(rt, None, rt.settings.notifications_sweep_batch)
    if leased is None:
        return 0
    ids, lease = leased
    gate = asyncio.Semaphore(SWEEP_CONCURRENCY)

    async def one(client: httpx.AsyncClient, delivery_id: uuid.UUID) -> None:
        async with gate:
            await _attempt(rt, client, delivery_id, lease)

    async with _client(rt) as client:
        await asyncio.gather(*(one(client, i) for i in ids))
    return len(ids)


async def _claim(
    rt: Runtime, delivery_id: uuid.UUID | None, limit: int
) -> tuple[list[uuid.UUID], datetime] | None:
    now = rt.clock.now()
    lease = now + timedelta(seconds=rt.settings.notifications_lease_seconds)
    async with rt.db.session() as session:
        ids = await repo.claim(session, now, lease, delivery_id=delivery_id, limit=limit)
    return (ids, lease) if ids else None


@functools.cache
def _tls() -> ssl.SSLContext:
    # Loading the CA bundle takes ~40 ms: once a process, not once a client.
    return httpx.create_ssl_context()


def _client(rt: Runtime) -> httpx.AsyncClient:
    # No redirects (a redirect could point at a private address) and no proxy settings from the
    # environment (the checked address must be the one connected to).
    return httpx.AsyncClient(
        timeout=rt.settings.notifications_timeout_seconds,
        follow_redirects=False,
        trust_env=False,
        verify=_tls(),
    )


async def _attempt(rt: Runtime, client: httpx.AsyncClient, delivery_id: uuid.UUID, lease: datetime) -> None:
    async with rt.db.session() as session:
        loaded = await repo.load_for_send(session, delivery_id)
    if loaded is None:
        return
    delivery, event, target = loaded
    if event is None or target is None:
        attempt = Attempt(False, error="the event or its endpoint no longer exists", final=True, counts=False)
    elif not target.enabled:
        attempt = Attempt(False, error="the endpoint is disabled", final=True, counts=False)
    elif isinstance(target, WebhookEndpoint):
        attempt = await _post(rt, client, target, event)
    else:
        attempt = await _notify(rt, target, event)
    await _record(rt, delivery, target, attempt, lease)


async def _post(
    rt: Runtime, client: httpx.AsyncClient, endpoint: WebhookEndpoint, event: NotificationEvent
) -> Attempt:
    payload = signing.body(str(event.type), event.created_at, event.data)
    try:
        resolved = await check_http_url(
            endpoint.url, allow_private=rt.settings.notifications_allow_private_targets
        )
    except UnsafeTarget as exc:
        return Attempt(False, error=f"not sent: the URL {exc}")
    url = httpx.URL(endpoint.url)
    # Connect to the address just checked (not a second lookup that could answer differently), telling
    # the server the name it expects (Host) and, over TLS, the name to present and verify (SNI).
    headers = signing.headers(endpoint.secret, str(event.id), utcnow(), payload)
    headers["host"] = url.netloc.decode("ascii")
    extensions: dict[str, Any] = {"sni_hostname": url.host} if url.scheme == "https" else {}
    try:
        response = await client.post(
            url.copy_with(host=resolved.address),
            content=payload.encode(),
            headers=headers,
            extensions=extensions,
        )
    except httpx.HTTPError as exc:
        return Attempt(False, error=f"{type(exc).__name__}: {exc}"[:500] if str(exc) else type(exc).__name__)
    if 200 <= response.status_code < 300:
        return Attempt(True, response.status_code)
    return Attempt(False, response.status_code, f"HTTP {response.status_code}")


async def _notify(rt: Runtime, channel: NotificationChannel, event: NotificationEvent) -> Attempt:
    title, body = describe(event.type, event.data)
    try:
        error = await channels.send(
            channel.url,
            title,
            body,
            allow_private=rt.settings.notifications_allow_private_targets,
            seconds=rt.settings.notifications_timeout_seconds,
        )
    except UnsafeTarget as exc:
        error = f"not sent: the URL {exc}"
    return Attempt(error is None, error=error)


def _outcome(delivery: NotificationDelivery, attempt: Attempt, now: datetime) -> dict[str, Any]:
    attempts = delivery.attempts + 1
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_status_code": attempt.status_code,
        "last_error": attempt.error,
    }
    if attempt.ok:
        return {**values, "status": DeliveryStatus.SUCCEEDED, "delivered_at": now, "next_attempt_at": None}
    if attempt.final or attempts >= MAX_ATTEMPTS:
        return {**values, "status": DeliveryStatus.FAILED, "next_attempt_at": None}
    delay = RETRY_DELAYS[attempts - 1]
    return {**values, "status": DeliveryStatus.RETRYING, "next_attempt_at": now + timedelta(seconds=delay)}


async def _record(
    rt: Runtime, delivery: NotificationDelivery, target: Target | None, attempt: Attempt, lease: datetime
) -> None:
    now = rt.clock.now()
    async with rt.db.session() as session:
        if not await repo.finish_attempt(session, delivery.id, lease, **_outcome(delivery, attempt, now)):
            return  # our lease ran out and another sender took the delivery over
        if target is None or not attempt.counts:
            return
        model: repo.TargetModel = (
            WebhookEndpoint if isinstance(target, WebhookEndpoint) else NotificationChannel
        )
        if attempt.ok:
            await repo.reset_failures(session, model, target.id)
            return
        streak = await repo.count_failure(session, model, target.id)
        limit = rt.settings.notifications_disable_after_failures
        if streak is not None and streak >= limit:
            await _disable(session, model, target, limit, attempt, now)


async def _disable(
    session: AsyncSession,
    model: repo.TargetModel,
    target: Target,
    limit: int,
    attempt: Attempt,
    now: datetime,
) -> None:
    """Stop sending to a target that keeps failing, and tell the user (the feed and their other
    endpoints and channels: this one is excluded, being disabled first)."""
    reason = f"disabled after {limit} failed attempts in a row (last: {attempt.error or 'failed'})"[:500]
    if not await repo.disable(session, model, target.id, reason):
        return
    key = "endpoint_id" if model is WebhookEndpoint else "channel_id"
    log.warning("notification_target_disabled", kind=key.removesuffix("_id"), target_id=str(target.id))
    data = {key: str(target.id), "reason": reason}
    await emit(session, target.user_id, NotificationEventType.ENDPOINT_DISABLED, data, now)
