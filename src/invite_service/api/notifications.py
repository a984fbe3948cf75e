"""Notifications API: ``/api/v1/notifications/…`` — webhook endpoints, apprise channels, the delivery
log with redelivery, and the in-browser feed. Everything is the caller's own; another user's is a 404."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from invite_service.api.deps import CurrentUser, RuntimeDep, SessionDep, SettingsDep
from invite_service.api.params import UNREADABLE_BODY
from invite_service.kit.inputs import INT64_MAX, Text
from invite_service.kit.pagination import MAX_LIMIT, Page
from invite_service.models.notifications import DeliveryStatus
from invite_service.notifications import service
from invite_service.notifications.schemas import (
    ChannelIn,
    ChannelOut,
    ChannelPatch,
    DeliveryOut,
    EventFeed,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
)

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.post("/webhooks", response_model=WebhookCreated, status_code=201, responses=UNREADABLE_BODY)
async def create_webhook(
    body: WebhookIn, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> WebhookCreated:
    return await service.create_webhook(session, settings, user, body)


@router.get("/webhooks", response_model=list[WebhookOut])
async def list_webhooks(user: CurrentUser, session: SessionDep) -> list[WebhookOut]:
    return await service.list_webhooks(session, user)


@router.get("/webhooks/{endpoint_id}", response_model=WebhookOut)
async def get_webhook(endpoint_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> WebhookOut:
    return await service.get_webhook(session, user, endpoint_id)


@router.patch("/webhooks/{endpoint_id}", response_model=WebhookOut, responses=UNREADABLE_BODY)
async def update_webhook(
    endpoint_id: uuid.UUID, body: WebhookPatch, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> WebhookOut:
    return await service.update_webhook(session, settings, user, endpoint_id, body)


@router.post("/webhooks/{endpoint_id}/test", response_model=DeliveryOut, status_code=202)
async def test_webhook(
    endpoint_id: uuid.UUID, user: CurrentUser, session: SessionDep, rt: RuntimeDep
) -> DeliveryOut:
    """Send a ``notification.test`` event to this endpoint now; follow it in the delivery log."""
    return await service.test_webhook(session, user, endpoint_id, rt.clock.now())


@router.delete("/webhooks/{endpoint_id}", status_code=204)
async def delete_webhook(endpoint_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Response:
    await service.delete_webhook(session, user, endpoint_id)
    return Response(status_code=204)


@router.post("/channels", response_model=ChannelOut, status_code=201, responses=UNREADABLE_BODY)
async def create_channel(
    body: ChannelIn, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> ChannelOut:
    return await service.create_channel(session, settings, user, body)


@router.get("/channels", response_model=list[ChannelOut])
async def list_channels(user: CurrentUser, session: SessionDep) -> list[ChannelOut]:
    return await service.list_channels(session, user)


@router.get("/channels/{channel_id}", response_model=ChannelOut)
async def get_channel(channel_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> ChannelOut:
    return await service.get_channel(session, user, channel_id)


@router.patch("/channels/{channel_id}", response_model=ChannelOut, responses=UNREADABLE_BODY)
async def update_channel(
    channel_id: uuid.UUID, body: ChannelPatch, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> ChannelOut:
    return await service.update_channel(session, settings, user, channel_id, body)


@router.delete("/channels/{channel_id}", status_code=204)
async def delete_channel(channel_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Response:
    await service.delete_channel(session, user, channel_id)
    return Response(status_code=204)


@router.get("/deliveries", response_model=Page[DeliveryOut])
async def list_deliveries(
    user: CurrentUser,
    session: SessionDep,
    endpoint_id: uuid.UUID | None = None,
    channel_id: uuid.UUID | None = None,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[Text | None, Query(max_length=1000)] = None,
) -> Page[DeliveryOut]:
    """The delivery log, newest first."""
    return await service.list_deliveries(
        session,
        user,
        endpoint_id=endpoint_id,
        channel_id=channel_id,
        status=status,
        cursor=cursor,
        limit=limit,
    )


@router.post("/deliveries/{delivery_id}/redeliver", response_model=DeliveryOut, status_code=202)
async def redeliver(
    delivery_id: uuid.UUID, user: CurrentUser, session: SessionDep, rt: RuntimeDep
) -> DeliveryOut:
    return await service.redeliver(session, user, delivery_id, rt.clock.now())


@router.get("/events", response_model=EventFeed)
async def events(
    user: CurrentUser,
    session: SessionDep,
    after: Annotated[int | None, Query(ge=0, le=INT64_MAX, description="the last id seen")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> EventFeed:
    """The in-browser feed, oldest first; without ``after``, no items and the current ``last_id``."""
    return await service.feed(session, user, after, limit)
