"""Request and response models of the notifications API (the contract: docs/api.md "Notifications")."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from invite_service.kit.inputs import InputModel, Text
from invite_service.models.notifications import DeliveryStatus, NotificationEventType

EventTypes = list[NotificationEventType]
_TYPES_DOC = "the event types sent there; empty: all"


class WebhookIn(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: Text = Field(
        max_length=2048,
        description="http(s) URL; public addresses only unless the operator allows private ones",
    )
    description: Text = Field(default="", max_length=500)
    event_types: EventTypes = Field(default_factory=list, max_length=20, description=_TYPES_DOC)


class WebhookPatch(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: Text | None = Field(default=None, max_length=2048)
    description: Text | None = Field(default=None, max_length=500)
    event_types: EventTypes | None = Field(default=None, max_length=20)
    enabled: bool | None = Field(
        default=None, description="true also clears disabled_reason and the failure streak"
    )


class _TargetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event_types: list[NotificationEventType]
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime


class WebhookOut(_TargetOut):
    url: str
    description: str


class WebhookCreated(WebhookOut):
    secret: str = Field(description="the signing secret (whsec_…); shown only in this answer")


class ChannelIn(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: Text = Field(
        max_length=4096, description="an apprise URL: mailto://, tgram://, slack://, json://host/path …"
    )
    label: Text = Field(default="", max_length=200)
    event_types: EventTypes = Field(default_factory=list, max_length=20, description=_TYPES_DOC)


class ChannelPatch(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: Text | None = Field(default=None, max_length=4096)
    label: Text | None = Field(default=None, max_length=200)
    event_types: EventTypes | None = Field(default=None, max_length=20)
    enabled: bool | None = None


class ChannelOut(_TargetOut):
    label: str
    scheme: str
    url_masked: str = Field(description="the URL with its secrets replaced by ***")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event_id: int
    event_type: NotificationEventType
    endpoint_id: uuid.UUID | None
    channel_id: uuid.UUID | None
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    type: NotificationEventType
    created_at: datetime
    data: dict[str, Any]


class EventFeed(BaseModel):
    items: list[EventOut]
    last_id: int = Field(description="pass it as `after` next time")
