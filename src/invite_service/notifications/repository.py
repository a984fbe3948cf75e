"""All SQL of notifications; every query that reads a user's objects is scoped by ``user_id``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.kit.pagination import SortSpec, keyset_page
from invite_service.models.notifications import (
    DeliveryStatus,
    NotificationChannel,
    NotificationDelivery,
    NotificationEvent,
    NotificationEventType,
    WebhookEndpoint,
)

T = TypeVar("T", WebhookEndpoint, NotificationChannel)
TargetModel = type[WebhookEndpoint] | type[NotificationChannel]
OPEN = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
DELIVERY_SORT = SortSpec("created_at", descending=True)


async def get_owned(session: AsyncSession, model: type[T], user_id: str, object_id: uuid.UUID) -> T | None:
    stmt = select(model).where(model.id == object_id, model.user_id == user_id)
    return (await session.scalars(stmt)).one_or_none()


async def list_owned(session: AsyncSession, model: type[T], user_id: str) -> list[T]:
    stmt = select(model).where(model.user_id == user_id).order_by(model.created_at, model.id)
    return list((await session.scalars(stmt)).all())


async def delete_endpoint(session: AsyncSession, endpoint: WebhookEndpoint) -> None:
    await session.execute(delete(NotificationDelivery).where(NotificationDelivery.endpoint_id == endpoint.id))
    await session.delete(endpoint)
    await session.flush()


async def delete_channel(session: AsyncSession, channel: NotificationChannel) -> None:
    await session.execute(delete(NotificationDelivery).where(NotificationDelivery.channel_id == channel.id))
    await session.delete(channel)
    await session.flush()


def _matches(event_types: Sequence[str], event_type: str) -> bool:
    return not event_types or event_type in event_types


async def subscribers(
    session: AsyncSession, user_id: str, event_type: str
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Ids of the user's enabled endpoints and channels that take ``event_type`` (the filter is a small
    JSON list, matched here rather than in portable SQL)."""
    endpoints = await session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(
            WebhookEndpoint.user_id == user_id, WebhookEndpoint.enabled.is_(True)
        )
    )
    channels = await session.execute(
        select(NotificationChannel.id, NotificationChannel.event_types).where(
            NotificationChannel.user_id == user_id, NotificationChannel.enabled.is_(True)
        )
    )
    return (
        [i for i, types in endpoints if _matches(types, event_type)],
        [i for i, types in channels if _matches(types, event_type)],
    )


async def add_event(
    session: AsyncSession,
    user_id: str,
    event_type: NotificationEventType,
    data: dict[str, Any],
    now: datetime,
) -> NotificationEvent:
    event = NotificationEvent(user_id=user_id, type=event_type, data=data, created_at=now)
    session.add(event)
    await session.flush()
    return event


async def add_deliveries(
    session: AsyncSession,
    event: NotificationEvent,
    endpoint_ids: Sequence[uuid.UUID],
    channel_ids: Sequence[uuid.UUID],
    now: datetime,
) -> list[uuid.UUID]:
    rows = [
        NotificationDelivery(
            id=uuid.uuid4(),
            event_id=event.id,
            user_id=event.user_id,
            event_type=event.type,
            endpoint_id=endpoint_id,
            channel_id=channel_id,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for endpoint_id, channel_id in [(e, None) for e in endpoint_ids] + [(None, c) for c in channel_ids]
    ]
    session.add_all(rows)
    await session.flush()
    return [row.id for row in rows]


async def last_event_id(session: AsyncSession, user_id: str) -> int:
    value = await session.scalar(
        select(func.max(NotificationEvent.id)).where(NotificationEvent.user_id == user_id)
    )
    return int(value or 0)


async def events_after(
    session: AsyncSession, user_id: str, after: int, limit: int
) -> list[NotificationEvent]:
    stmt = (
        select(NotificationEvent)
        .where(
            NotificationEvent.user_id == user_id,
            NotificationEvent.id > after,
            NotificationEvent.type != NotificationEventType.TEST,
        )
        .order_by(NotificationEvent.id)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def get_delivery(
    session: AsyncSession, user_id: str, delivery_id: uuid.UUID
) -> NotificationDelivery | None:
    stmt = select(NotificationDelivery).where(
        NotificationDelivery.id == delivery_id, NotificationDelivery.user_id == user_id
    )
    return (await session.scalars(stmt)).one_or_none()


async def list_deliveries(
    session: AsyncSession,
    user_id: str,
    *,
    endpoint_id: uuid.UUID | None,
    channel_id: uuid.UUID | None,
    status: DeliveryStatus | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[NotificationDelivery], int]:
    stmt = select(NotificationDelivery).where(NotificationDelivery.user_id == user_id)
    if endpoint_id is not None:
        stmt = stmt.where(NotificationDelivery.endpoint_id == endpoint_id)
    if channel_id is not None:
        stmt = stmt.where(NotificationDelivery.channel_id == channel_id)
    if status is not None:
        stmt = stmt.where(NotificationDelivery.status == status)
    page = keyset_page(
        stmt, [NotificationDelivery.created_at, NotificationDelivery.id], DELIVERY_SORT, cursor, limit
    )
    rows = list((await session.scalars(page)).all())
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return rows, int(total or 0)


def _claimable(now: datetime) -> Any:
    return (
        NotificationDelivery.status.in_(OPEN),
        NotificationDelivery.next_attempt_at <= now,
        or_(NotificationDelivery.lease_until.is_(None), NotificationDelivery.lease_until < now),
    )


async def claim(
    session: AsyncSession, now: datetime, lease_until: datetime, *, delivery_id: uuid.UUID | None, limit: int
) -> list[uuid.UUID]:
    """Lease due deliveries (one by id, or up to ``limit`` of the most overdue) so that no other sender
    takes them until ``lease_until``. The conditions are repeated in the UPDATE's own WHERE: a claimer
    that read a row before another's claim committed re-checks them on the row, and skips it."""
    due = select(NotificationDelivery.id).where(*_claimable(now))
    if delivery_id is not None:
        due = due.where(NotificationDelivery.id == delivery_id)
    # SKIP LOCKED (PostgreSQL; SQLite has one writer anyway): concurrent sweeps take disjoint rows
    # instead of queueing on, or deadlocking over, the same ones.
    due = due.order_by(NotificationDelivery.next_attempt_at).limit(limit).with_for_update(skip_locked=True)
    stmt = (
        update(NotificationDelivery)
        .where(NotificationDelivery.id.in_(due.scalar_subquery()), *_claimable(now))
        .values(lease_until=lease_until)
        .returning(NotificationDelivery.id)
        .execution_options(synchronize_session=False)
    )
    return [row[0] for row in await session.execute(stmt)]


async def load_for_send(
    session: AsyncSession, delivery_id: uuid.UUID
) -> (
    tuple[NotificationDelivery, NotificationEvent | None, WebhookEndpoint | NotificationChannel | None] | None
):
    """The delivery with its event and its endpoint or channel (None where gone), in one query."""
    stmt = (
        select(NotificationDelivery, NotificationEvent, WebhookEndpoint, NotificationChannel)
        .outerjoin(NotificationEvent, NotificationEvent.id == NotificationDelivery.event_id)
        .outerjoin(WebhookEndpoint, WebhookEndpoint.id == NotificationDelivery.endpoint_id)
        .outerjoin(NotificationChannel, NotificationChannel.id == NotificationDelivery.channel_id)
        .where(NotificationDelivery.id == delivery_id)
    )
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        return None
    delivery, event, endpoint, channel = row
    return delivery, event, endpoint if endpoint is not None else channel


async def finish_attempt(
    session: AsyncSession, delivery_id: uuid.UUID, lease_until: datetime, **values: Any
) -> bool:
    """Record an attempt, fenced by the lease it was made under (a sender whose lease ran out and was
    taken over writes nothing)."""
    result = await session.execute(
        update(NotificationDelivery)
        .where(NotificationDelivery.id == delivery_id, NotificationDelivery.lease_until == lease_until)
        .values(lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    return _changed(result) > 0


async def reset_failures(session: AsyncSession, model: TargetModel, target_id: uuid.UUID) -> None:
    # Only a row with a streak is written (and locked): successes to a healthy endpoint write nothing.
    await session.execute(
        update(model)
        .where(model.id == target_id, model.consecutive_failures != 0)
        .values(consecutive_failures=0)
        .execution_options(synchronize_session=False)
    )


async def count_failure(session: AsyncSession, model: TargetModel, target_id: uuid.UUID) -> int | None:
    """Add one to an enabled target's failure streak, atomically; the new streak (None: gone or
    disabled already)."""
    result = await session.execute(
        update(model)
        .where(model.id == target_id, model.enabled.is_(True))
        .values(consecutive_failures=model.consecutive_failures + 1)
        .returning(model.consecutive_failures)
        .execution_options(synchronize_session=False)
    )
    value = result.scalar_one_or_none()
    return None if value is None else int(value)


async def disable(session: AsyncSession, model: TargetModel, target_id: uuid.UUID, reason: str) -> bool:
    """Disable an enabled target; False when another sender already did."""
    result = await session.execute(
        update(model)
        .where(model.id == target_id, model.enabled.is_(True))
        .values(enabled=False, disabled_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return _changed(result) > 0


async def backlog(session: AsyncSession, now: datetime) -> tuple[int, datetime | None]:
    """Open deliveries due by ``now``, and the due time of the oldest one."""
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(NotificationDelivery.next_attempt_at)).where(
                NotificationDelivery.status.in_(OPEN), NotificationDelivery.next_attempt_at <= now
            )
        )
    ).one()
    return int(count or 0), oldest


def _changed(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
