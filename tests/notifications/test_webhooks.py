"""Webhooks end to end: a real local receiver, the real engine on a simulated clock, real rows."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from invite_service.config import Settings
from invite_service.models.notifications import DeliveryStatus, NotificationDelivery, NotificationEventType
from invite_service.notifications import delivery, service
from invite_service.notifications import repository as repo
from invite_service.notifications.schemas import WebhookCreated, WebhookIn, WebhookPatch
from tests.execution.harness import Harness, make_harness
from tests.notifications.receiver import receiver


@pytest.fixture
async def h(db_url: str) -> AsyncIterator[Harness]:
    settings = Settings(
        database_url=db_url,
        log_level="WARNING",
        notifications_allow_private_targets=True,  # the receiver listens on 127.0.0.1
        notifications_disable_after_failures=3,
    )
    harness = await make_harness(db_url, settings=settings)
    yield harness
    await harness.rt.db.dispose()


async def _endpoint(h: Harness, url: str, **fields: object) -> WebhookCreated:
    async with h.rt.db.session() as s:
        return await service.create_webhook(
            s, h.settings, h.user, WebhookIn.model_validate({"url": url, **fields})
        )


async def _deliveries(h: Harness, endpoint_id: uuid.UUID) -> list[NotificationDelivery]:
    async with h.rt.db.session() as s:
        rows = await s.scalars(
            select(NotificationDelivery)
            .where(NotificationDelivery.endpoint_id == endpoint_id)
            .order_by(NotificationDelivery.created_at)
        )
        return list(rows)


async def _emit(h: Harness, event_type: NotificationEventType = NotificationEventType.TASK_PAUSED) -> int:
    async with h.rt.db.session() as s:
        event = await service.emit(
            s, h.user, event_type, {"task_id": "t", "task_name": "n", "status": "paused"}, h.clock.now()
        )
    await h.queue.run_due(h.rt)  # the deliver job deferred by the emission
    return event.id


async def test_task_completed_reaches_a_receiver_with_a_valid_signature(h: Harness) -> None:
    with receiver() as rx:
        endpoint = await _endpoint(h, rx.url(), event_types=["task.completed"])
        accounts = await h.accounts(2)
        task_id = await h.task(5, accounts)
        await h.control(task_id, "start")
        assert await h.run_until([task_id], {"completed"}, horizon=timedelta(hours=2))
        await h.queue.run_due(h.rt)
        assert len(rx.requests) == 1
        got = rx.requests[0]
    payload = Webhook(endpoint.secret).verify(got.body, got.headers)
    assert payload["type"] == "task.completed"
    assert payload["data"]["task_id"] == str(task_id) and payload["data"]["status"] == "completed"
    (row,) = await _deliveries(h, endpoint.id)
    assert got.headers["webhook-id"] == str(row.event_id)
    assert row.status is DeliveryStatus.SUCCEEDED and row.last_status_code == 200 and row.attempts == 1
    # A tampered body does not verify.
    with pytest.raises(Exception, match="signature"):
        Webhook(endpoint.secret).verify(got.body.replace(b"completed", b"cancelled"), got.headers)


async def test_a_failing_receiver_gets_retries_with_growing_delays_then_succeeds(h: Harness) -> None:
    with receiver(clock=h.clock.now) as rx:
        rx.answers.extend([500, 500, 503, 500])
        endpoint = await _endpoint(h, rx.url())
        h.rt.settings.notifications_disable_after_failures = 100  # this test is about retries only
        await _emit(h)
        for _ in range(40):  # the sweep, on the simulated clock, until the receiver has said 200
            (row,) = await _deliveries(h, endpoint.id)
            if row.status is DeliveryStatus.SUCCEEDED:
                break
            assert row.next_attempt_at is not None
            h.clock.set(max(row.next_attempt_at, h.clock.now()))
            await delivery.sweep(h.rt)
        statuses = [r.status for r in rx.requests]
        times = [r.at for r in rx.requests]
    assert statuses == [500, 500, 503, 500, 200]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times) if a and b]
    assert gaps == [5, 300, 1800, 7200]  # the Standard Webhooks schedule: 5 s, 5 min, 30 min, 2 h
    assert gaps == sorted(gaps)
    (row,) = await _deliveries(h, endpoint.id)
    assert row.status is DeliveryStatus.SUCCEEDED and row.attempts == 5 and row.last_status_code == 200
    assert len({r.headers["webhook-id"] for r in rx.requests}) == 1  # one message id on every attempt


async def test_the_delivery_log_shows_status_codes_while_retrying(h: Harness) -> None:
    with receiver() as rx:
        rx.answers.extend([502])
        endpoint = await _endpoint(h, rx.url())
        await _emit(h)
    async with h.rt.db.session() as s:
        page = await service.list_deliveries(
            s, h.user, endpoint_id=endpoint.id, channel_id=None, status=None, cursor=None, limit=10
        )
    (item,) = page.items
    assert item.status is DeliveryStatus.RETRYING and item.last_status_code == 502 and item.attempts == 1
    assert item.next_attempt_at == h.clock.now() + timedelta(seconds=5)


async def test_redelivery_sends_again_with_the_same_webhook_id(h: Harness) -> None:
    with receiver() as rx:
        endpoint = await _endpoint(h, rx.url())
        await _emit(h)
        (row,) = await _deliveries(h, endpoint.id)
        assert row.status is DeliveryStatus.SUCCEEDED
        async with h.rt.db.session() as s:
            again = await service.redeliver(s, h.user, row.id, h.clock.now())
        assert again.status is DeliveryStatus.PENDING
        await h.queue.run_due(h.rt)
        assert len(rx.requests) == 2
        assert rx.requests[0].headers["webhook-id"] == rx.requests[1].headers["webhook-id"]
        assert json.loads(rx.requests[0].body) == json.loads(rx.requests[1].body)
    (row,) = await _deliveries(h, endpoint.id)
    assert row.status is DeliveryStatus.SUCCEEDED and row.attempts == 1


async def test_a_failed_delivery_can_be_redelivered(h: Harness) -> None:
    with receiver() as rx:
        rx.answers.extend([500] * 8)
        endpoint = await _endpoint(h, rx.url())
        h.rt.settings.notifications_disable_after_failures = 100
        await _emit(h)
        for _ in range(20):
            (row,) = await _deliveries(h, endpoint.id)
            if row.status is DeliveryStatus.FAILED:
                break
            assert row.next_attempt_at is not None
            h.clock.set(row.next_attempt_at)
            await delivery.sweep(h.rt)
        assert row.status is DeliveryStatus.FAILED and row.attempts == delivery.MAX_ATTEMPTS == 8
        async with h.rt.db.session() as s:
            await service.redeliver(s, h.user, row.id, h.clock.now())
        await h.queue.run_due(h.rt)
        assert len(rx.requests) == 9 and rx.requests[-1].status == 200
        assert {r.headers["webhook-id"] for r in rx.requests} == {str(row.event_id)}
    (row,) = await _deliveries(h, endpoint.id)
    assert row.status is DeliveryStatus.SUCCEEDED


async def test_repeated_failures_disable_the_endpoint_and_tell_the_user(h: Harness) -> None:
    with receiver() as rx:
        rx.answers.extend([500] * 20)
        endpoint = await _endpoint(h, rx.url())
        async with h.rt.db.session() as s:
            start = await service.feed(s, h.user, None, 50)
        for _ in range(3):  # three events, each failing its first attempt: a streak of 3
            await _emit(h)
        async with h.rt.db.session() as s:
            current = await service.get_webhook(s, h.user, endpoint.id)
            feed = await service.feed(s, h.user, start.last_id, 50)
        assert current.enabled is False and current.consecutive_failures == 3
        assert current.disabled_reason is not None and "3 failed attempts" in current.disabled_reason
        disabled = [e for e in feed.items if e.type is NotificationEventType.ENDPOINT_DISABLED]
        assert len(disabled) == 1 and disabled[0].data["endpoint_id"] == str(endpoint.id)
        # Nothing more is sent to it: its open retries end as failed without a request.
        sent = len(rx.requests)
        h.clock.advance(10)
        await delivery.sweep(h.rt)
        assert len(rx.requests) == sent
        # Enabling it again clears the reason and the streak.
        async with h.rt.db.session() as s:
            again = await service.update_webhook(
                s, h.settings, h.user, endpoint.id, WebhookPatch(enabled=True)
            )
        assert again.enabled and again.disabled_reason is None and again.consecutive_failures == 0


async def test_private_targets_are_refused_at_send_time_without_the_setting(h: Harness) -> None:
    with receiver() as rx:
        endpoint = await _endpoint(h, rx.url())
        h.rt.settings.notifications_allow_private_targets = False  # e.g. the operator turned it off
        await _emit(h)
        assert rx.requests == []
    (row,) = await _deliveries(h, endpoint.id)
    assert row.status is DeliveryStatus.RETRYING and row.last_error is not None
    assert "private" in row.last_error


async def test_two_sweeps_never_send_one_delivery_twice(h: Harness) -> None:
    with receiver() as rx:
        endpoint = await _endpoint(h, rx.url())
        async with h.rt.db.session() as s:  # rows only: no deliver job, the sweeps find them
            for _ in range(20):
                await service.emit(s, h.user, NotificationEventType.TASK_PAUSED, {}, h.clock.now())
        h.queue._heap.clear()  # drop the deliver jobs: only the sweeps send
        sent = await asyncio.gather(delivery.sweep(h.rt), delivery.sweep(h.rt), delivery.sweep(h.rt))
        assert sum(sent) >= 20  # every user's due rows: other tests' may be among them
        ids = [r.headers["webhook-id"] for r in rx.requests]
    assert len(ids) == 20 and len(set(ids)) == 20
    assert all(r.status is DeliveryStatus.SUCCEEDED for r in await _deliveries(h, endpoint.id))


async def test_backlog_counts_due_unsent_deliveries(db_url: str) -> None:
    # The backlog is every user's: a clock years before the other tests' keeps their rows out of it.
    settings = Settings(database_url=db_url, log_level="WARNING", notifications_allow_private_targets=True)
    h = await make_harness(db_url, settings=settings, start=datetime(2020, 1, 6, 9, 0, tzinfo=UTC))
    try:
        await _backlog_scenario(h)
    finally:
        await h.rt.db.dispose()


async def _backlog_scenario(h: Harness) -> None:
    with receiver() as rx:
        rx.answers.extend([500])
        await _endpoint(h, rx.url())
        async with h.rt.db.session() as s:
            assert await service.backlog(s, h.clock.now()) == (0, None)
            await service.emit(s, h.user, NotificationEventType.TASK_PAUSED, {}, h.clock.now())
        async with h.rt.db.session() as s:
            assert await service.backlog(s, h.clock.now()) == (1, h.clock.now())
        await h.queue.run_due(h.rt)  # sent, failed: a retry in 5 s is not backlog yet
        async with h.rt.db.session() as s:
            assert await service.backlog(s, h.clock.now()) == (0, None)
            later = h.clock.advance(65)
            assert await service.backlog(s, later) == (1, later - timedelta(seconds=60))


async def test_a_redirect_is_not_followed_and_counts_as_a_failure(h: Harness) -> None:
    with receiver() as rx:
        rx.answers.extend([302])
        endpoint = await _endpoint(h, rx.url())
        await _emit(h)
        assert len(rx.requests) == 1
    (row,) = await _deliveries(h, endpoint.id)
    assert row.status is DeliveryStatus.RETRYING and row.last_status_code == 302


async def test_a_delivery_held_by_a_dead_sender_is_sent_once_its_lease_runs_out(h: Harness) -> None:
    with receiver() as rx:
        endpoint = await _endpoint(h, rx.url())
        async with h.rt.db.session() as s:
            await service.emit(s, h.user, NotificationEventType.TASK_PAUSED, {}, h.clock.now())
        h.queue._heap.clear()  # the deliver job is lost
        (row,) = await _deliveries(h, endpoint.id)
        lease = h.clock.now() + timedelta(seconds=h.settings.notifications_lease_seconds)
        async with h.rt.db.session() as s:  # a sender claims it, then dies before sending
            assert await repo.claim(s, h.clock.now(), lease, delivery_id=row.id, limit=1) == [row.id]
        await delivery.sweep(h.rt)  # (the sweep is every user's: other tests' rows may go out)
        assert rx.requests == []
        h.clock.set(lease + timedelta(seconds=1))
        await delivery.sweep(h.rt)
        assert len(rx.requests) == 1
    (row,) = await _deliveries(h, endpoint.id)
    assert row.status is DeliveryStatus.SUCCEEDED
