"""Endpoints, channels, the delivery log, the feed and ``emit`` (the outbox). Services take a session
and never commit (DESIGN §3 rule 2)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.config import Settings
from invite_service.context.jobs import can_defer, defer
from invite_service.errors import FieldError, InvalidInput, NotFound
from invite_service.kit.pagination import Page, encode_cursor
from invite_service.models.notifications import (
    DeliveryStatus,
    NotificationChannel,
    NotificationEvent,
    NotificationEventType,
    WebhookEndpoint,
)
from invite_service.notifications import channels, signing
from invite_service.notifications import repository as repo
from invite_service.notifications.jobspec import deliver_job
from invite_service.notifications.schemas import (
    ChannelIn,
    ChannelOut,
    ChannelPatch,
    DeliveryOut,
    EventFeed,
    EventOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
)
from invite_service.notifications.ssrf import UnsafeTarget, check_http_url


async def emit(
    session: AsyncSession,
    user_id: str,
    event_type: NotificationEventType,
    data: dict[str, Any],
    now: datetime,
) -> NotificationEvent:
    """Record an event for the user's feed and one delivery per subscribed endpoint and channel, in the
    caller's transaction; the sends are jobs published after its commit (and the sweep's on a session
    that publishes none). Nothing is sent here, so a receiver can never slow down or fail the caller."""
    event = await repo.add_event(session, user_id, event_type, data, now)
    endpoint_ids, channel_ids = await repo.subscribers(session, user_id, event_type)
    delivery_ids = await repo.add_deliveries(session, event, endpoint_ids, channel_ids, now)
    if can_defer(session):
        for delivery_id in delivery_ids:
            defer(session, deliver_job(delivery_id))
    return event


async def backlog(session: AsyncSession, now: datetime) -> tuple[int, datetime | None]:
    """(deliveries due by ``now`` and not yet sent, the due time of the oldest) for /health/detailed:
    a growing count or an old oldest means senders are not keeping up (or are not running)."""
    return await repo.backlog(session, now)


# --- webhook endpoints ---------------------------------------------------------------------------


async def _checked_url(settings: Settings, url: str) -> str:
    try:
        await check_http_url(url, allow_private=settings.notifications_allow_private_targets)
    except UnsafeTarget as exc:
        raise InvalidInput(errors=[FieldError(("body", "url"), str(exc))]) from exc
    return url


async def _endpoint(session: AsyncSession, user_id: str, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = await repo.get_owned(session, WebhookEndpoint, user_id, endpoint_id)
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


async def create_webhook(
    session: AsyncSession, settings: Settings, user_id: str, body: WebhookIn
) -> WebhookCreated:
    endpoint = WebhookEndpoint(
        user_id=user_id,
        url=await _checked_url(settings, body.url),
        description=body.description,
        event_types=[str(t) for t in body.event_types],
        secret=signing.new_secret(),
        enabled=True,
        consecutive_failures=0,
    )
    session.add(endpoint)
    await session.flush()
    return WebhookCreated.model_validate(endpoint)


async def list_webhooks(session: AsyncSession, user_id: str) -> list[WebhookOut]:
    return [WebhookOut.model_validate(e) for e in await repo.list_owned(session, WebhookEndpoint, user_id)]


async def get_webhook(session: AsyncSession, user_id: str, endpoint_id: uuid.UUID) -> WebhookOut:
    return WebhookOut.model_validate(await _endpoint(session, user_id, endpoint_id))


def _patch_common(
    target: WebhookEndpoint | NotificationChannel, event_types: Any, enabled: bool | None
) -> None:
    if event_types is not None:
        target.event_types = [str(t) for t in event_types]
    if enabled is not None:
        target.enabled = enabled
        if enabled:
            target.disabled_reason = None
            target.consecutive_failures = 0


async def update_webhook(
    session: AsyncSession, settings: Settings, user_id: str, endpoint_id: uuid.UUID, body: WebhookPatch
) -> WebhookOut:
    endpoint = await _endpoint(session, user_id, endpoint_id)
    if body.url is not None:
        endpoint.url = await _checked_url(settings, body.url)
    if body.description is not None:
        endpoint.description = body.description
    _patch_common(endpoint, body.event_types, body.enabled)
    await session.flush()
    return WebhookOut.model_validate(endpoint)


async def test_webhook(
    session: AsyncSession, user_id: str, endpoint_id: uuid.UUID, now: datetime
) -> DeliveryOut:
    """A ``notification.test`` event sent to this endpoint alone (whatever its event filter)."""
    endpoint = await _endpoint(session, user_id, endpoint_id)
    data = {"endpoint_id": str(endpoint.id), "message": "A test notification from the Invite Service."}
    event = await repo.add_event(session, user_id, NotificationEventType.TEST, data, now)
    (delivery_id,) = await repo.add_deliveries(session, event, [endpoint.id], [], now)
    if can_defer(session):
        defer(session, deliver_job(delivery_id))
    delivery = await repo.get_delivery(session, user_id, delivery_id)
    return DeliveryOut.model_validate(delivery)


async def delete_webhook(session: AsyncSession, user_id: str, endpoint_id: uuid.UUID) -> None:
    await repo.delete_endpoint(session, await _endpoint(session, user_id, endpoint_id))


# --- apprise channels ----------------------------------------------------------------------------


async def _channel(session: AsyncSession, user_id: str, channel_id: uuid.UUID) -> NotificationChannel:
    channel = await repo.get_owned(session, NotificationChannel, user_id, channel_id)
    if channel is None:
        raise NotFound("No such notification channel.")
    return channel


async def _parsed(settings: Settings, url: str) -> channels.ParsedChannel:
    try:
        return await channels.parse(url, allow_private=settings.notifications_allow_private_targets)
    except (channels.UnknownChannel, UnsafeTarget) as exc:
        raise InvalidInput(errors=[FieldError(("body", "url"), str(exc))]) from exc


async def create_channel(
    session: AsyncSession, settings: Settings, user_id: str, body: ChannelIn
) -> ChannelOut:
    parsed = await _parsed(settings, body.url)
    channel = NotificationChannel(
        user_id=user_id,
        url=body.url,
        url_masked=parsed.masked,
        scheme=parsed.scheme,
        label=body.label,
        event_types=[str(t) for t in body.event_types],
        enabled=True,
        consecutive_failures=0,
    )
    session.add(channel)
    await session.flush()
    return ChannelOut.model_validate(channel)


async def list_channels(session: AsyncSession, user_id: str) -> list[ChannelOut]:
    return [
        ChannelOut.model_validate(c) for c in await repo.list_owned(session, NotificationChannel, user_id)
    ]


async def get_channel(session: AsyncSession, user_id: str, channel_id: uuid.UUID) -> ChannelOut:
    return ChannelOut.model_validate(await _channel(session, user_id, channel_id))


async def update_channel(
    session: AsyncSession, settings: Settings, user_id: str, channel_id: uuid.UUID, body: ChannelPatch
) -> ChannelOut:
    channel = await _channel(session, user_id, channel_id)
    if body.url is not None:
        parsed = await _parsed(settings, body.url)
        channel.url, channel.url_masked, channel.scheme = body.url, parsed.masked, parsed.scheme
    if body.label is not None:
        channel.label = body.label
    _patch_common(channel, body.event_types, body.enabled)
    await session.flush()
    return ChannelOut.model_validate(channel)


async def delete_channel(session: AsyncSession, user_id: str, channel_id: uuid.UUID) -> None:
    await repo.delete_channel(session, await _channel(session, user_id, channel_id))


# --- deliveries and the feed ---------------------------------------------------------------------


async def list_deliveries(
    session: AsyncSession,
    user_id: str,
    *,
    endpoint_id: uuid.UUID | None,
    channel_id: uuid.UUID | None,
    status: DeliveryStatus | None,
    cursor: str | None,
    limit: int,
) -> Page[DeliveryOut]:
    rows, total = await repo.list_deliveries(
        session,
        user_id,
        endpoint_id=endpoint_id,
        channel_id=channel_id,
        status=status,
        cursor=cursor,
        limit=limit,
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(repo.DELIVERY_SORT, [last.created_at, last.id])
    return Page(items=[DeliveryOut.model_validate(r) for r in rows], next_cursor=next_cursor, total=total)


async def redeliver(
    session: AsyncSession, user_id: str, delivery_id: uuid.UUID, now: datetime
) -> DeliveryOut:
    """Send it again, due now, under the same webhook-id (the event id); its attempt count restarts,
    so a failed one gets the whole retry schedule again."""
    delivery = await repo.get_delivery(session, user_id, delivery_id)
    if delivery is None:
        raise NotFound("No such delivery.")
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.lease_until = None
    delivery.delivered_at = None
    await session.flush()
    if can_defer(session):
        defer(session, deliver_job(delivery.id))
    return DeliveryOut.model_validate(delivery)


async def feed(session: AsyncSession, user_id: str, after: int | None, limit: int) -> EventFeed:
    """Without ``after``: nothing yet and the current last id (a page starts "from now")."""
    if after is None:
        return EventFeed(items=[], last_id=await repo.last_event_id(session, user_id))
    events = await repo.events_after(session, user_id, after, limit)
    return EventFeed(
        items=[EventOut.model_validate(e) for e in events], last_id=events[-1].id if events else after
    )
