"""Notifications: webhook endpoints, apprise channels, the event outbox and its deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from invite_service.kit.clock import utcnow
from invite_service.models.base import Base, BigId, JSONType, StrEnumType, TimestampMixin, UTCDateTime


class NotificationEventType(StrEnum):
    TASK_COMPLETED = "task.completed"
    TASK_PAUSED = "task.paused"
    # Defined for receivers; nothing moves a task to FAILED today, so nothing emits it yet.
    TASK_FAILED = "task.failed"
    ACCOUNT_RESTRICTED = "account.restricted"
    ACCOUNT_UNAVAILABLE = "account.unavailable"
    IMPORT_COMPLETED = "import.completed"
    IMPORT_FAILED = "import.failed"
    ENDPOINT_DISABLED = "endpoint.disabled"
    # A ping the user asked for (POST /notifications/webhooks/{id}/test): to that endpoint only, and not
    # in the in-browser feed.
    TEST = "notification.test"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class _Target(TimestampMixin):
    """What endpoints and channels share: the owner, the event filter and the failure streak."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[str] = mapped_column(String(128), nullable=False)
    # Empty: every event type.
    event_types: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    consecutive_failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class WebhookEndpoint(_Target, Base):
    __tablename__ = "notification_endpoints"

    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    description: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    # The Standard Webhooks signing secret ("whsec_" + base64); plain text (docs/security.md).
    secret: Mapped[str] = mapped_column(String(100), nullable=False)

    __table_args__ = (Index("ix_notification_endpoints_user", "user_id", "created_at"),)


class NotificationChannel(_Target, Base):
    __tablename__ = "notification_channels"

    # The apprise URL embeds tokens and passwords: never logged, answered only as ``url_masked``.
    url: Mapped[str] = mapped_column(Text, nullable=False)
    url_masked: Mapped[str] = mapped_column(Text, nullable=False)
    scheme: Mapped[str] = mapped_column(String(32), nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False, default="")

    __table_args__ = (Index("ix_notification_channels_user", "user_id", "created_at"),)


class NotificationEvent(Base):
    """The outbox and the in-browser feed: the id is monotonic, so it is the feed's cursor."""

    __tablename__ = "notification_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(128), nullable=False)
    type: Mapped[NotificationEventType] = mapped_column(
        StrEnumType(NotificationEventType, 40), nullable=False
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    __table_args__ = (
        Index("ix_notification_events_user", "user_id", "id"),
        Index("ix_notification_events_created", "created_at"),  # retention
    )


class NotificationDelivery(Base):
    """One event to one endpoint or channel: its attempts, result and next due time."""

    __tablename__ = "notification_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    event_id: Mapped[int] = mapped_column(BigId, nullable=False)
    user_id: Mapped[str] = mapped_column(String(128), nullable=False)
    event_type: Mapped[NotificationEventType] = mapped_column(
        StrEnumType(NotificationEventType, 40), nullable=False
    )
    endpoint_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    channel_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    status: Mapped[DeliveryStatus] = mapped_column(
        StrEnumType(DeliveryStatus, 16), nullable=False, default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A sender's claim: nobody else sends this delivery before it runs out.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
        Index("ix_notification_deliveries_user", "user_id", "created_at", "id"),
        Index("ix_notification_deliveries_endpoint", "endpoint_id"),
        Index("ix_notification_deliveries_channel", "channel_id"),
        Index("ix_notification_deliveries_event", "event_id"),  # retention: an event with deliveries left
        Index("ix_notification_deliveries_created", "created_at"),  # retention
    )
