"""apprise channels: a notification reaches a local receiver through apprise's json:// scheme."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from invite_service.config import Settings
from invite_service.models.notifications import DeliveryStatus, NotificationDelivery, NotificationEventType
from invite_service.notifications import delivery, service
from invite_service.notifications.schemas import ChannelIn
from tests.execution.harness import Harness, make_harness
from tests.notifications.receiver import receiver


@pytest.fixture
async def h(db_url: str) -> AsyncIterator[Harness]:
    settings = Settings(
        database_url=db_url,
        log_level="WARNING",
        notifications_allow_private_targets=True,
        notifications_disable_after_failures=2,
    )
    harness = await make_harness(db_url, settings=settings)
    yield harness
    await harness.rt.db.dispose()


async def _channel(h: Harness, url: str) -> service.ChannelOut:
    async with h.rt.db.session() as s:
        return await service.create_channel(s, h.settings, h.user, ChannelIn(url=url, label="local"))


async def _emit(h: Harness) -> None:
    data = {"task_id": "t1", "task_name": "Spring campaign", "status": "paused", "reason": "the chat is full"}
    async with h.rt.db.session() as s:
        await service.emit(s, h.user, NotificationEventType.TASK_PAUSED, data, h.clock.now())
    await h.queue.run_due(h.rt)


async def test_a_notification_reaches_a_receiver_through_apprise_json(h: Harness) -> None:
    with receiver() as rx:
        channel = await _channel(h, f"json://user:s3cret@127.0.0.1:{rx.port}/notify")
        assert channel.scheme == "json" and "s3cret" not in channel.url_masked
        await _emit(h)
        assert len(rx.requests) == 1
        got = rx.requests[0]
    assert got.path == "/notify"
    message = json.loads(got.body)
    assert message["title"] == "Task “Spring campaign” paused"
    assert "the chat is full" in message["message"]
    async with h.rt.db.session() as s:
        row = (
            await s.scalars(select(NotificationDelivery).where(NotificationDelivery.channel_id == channel.id))
        ).one()
    assert row.status is DeliveryStatus.SUCCEEDED and row.attempts == 1


async def test_a_failing_channel_retries_and_is_disabled_with_an_event(h: Harness) -> None:
    with receiver() as rx:
        rx.answers.extend([500] * 10)
        channel = await _channel(h, f"json://127.0.0.1:{rx.port}/notify")
        async with h.rt.db.session() as s:
            start = (await service.feed(s, h.user, None, 10)).last_id
        await _emit(h)
        h.clock.advance(5)
        await delivery.sweep(h.rt)  # the retry 5 s later fails too: a streak of 2
        assert len(rx.requests) == 2
    async with h.rt.db.session() as s:
        current = await service.get_channel(s, h.user, channel.id)
        feed = await service.feed(s, h.user, start, 10)
    assert current.enabled is False and current.disabled_reason
    assert [e.type for e in feed.items] == [
        NotificationEventType.TASK_PAUSED,
        NotificationEventType.ENDPOINT_DISABLED,
    ]
    assert feed.items[1].data["channel_id"] == str(channel.id)


async def test_channel_secrets_stay_out_of_the_logs(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # even with the service at DEBUG
    with receiver() as rx:
        rx.answers.extend([500])
        await _channel(h, f"json://user:TOPSECRETPW@127.0.0.1:{rx.port}/notify?token=TOPSECRETTOKEN")
        # A service that fails to connect: its bot token is in the URL path apprise would log.
        await _channel(h, "tgram://123456:TOPSECRETBOT/12345")
        await _emit(h)
        assert len(rx.requests) == 1
    # The loggers the service keeps at WARNING itself (observability/logging.py: SQL parameters) aside.
    pinned = ("aiosqlite", "sqlalchemy", "httpx", "httpcore", "asyncio")
    shown = [r for r in caplog.records if not r.name.startswith(pinned)]
    assert any(r.name.startswith("apprise") for r in shown)  # apprise did log (its warning)
    assert not [r.getMessage() for r in shown if "TOPSECRET" in r.getMessage()]
