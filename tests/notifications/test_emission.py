"""What the engine emits, read back through the feed (the API's, for the "from now" contract)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from invite_service.auth.jwt import mint_token
from invite_service.config import Settings
from invite_service.models.notifications import NotificationEventType as T
from invite_service.notifications import service
from invite_service.workers.stepped import simulate
from tests.execution.harness import Harness, make_harness


@pytest.fixture
async def h(db_url: str) -> AsyncIterator[Harness]:
    harness = await make_harness(db_url)
    yield harness
    await harness.rt.db.dispose()


async def _never() -> bool:
    return False


async def test_feed_from_now_then_the_completed_task(
    h: Harness, client: httpx.AsyncClient, settings: Settings
) -> None:
    me = {"Authorization": f"Bearer {mint_token(h.user, settings)}"}
    start = await client.get("/api/v1/notifications/events", headers=me)
    assert start.status_code == 200 and start.json()["items"] == []
    last_id = start.json()["last_id"]
    task_id = await h.task(5, await h.accounts(1))
    await h.control(task_id, "start")
    assert await h.run_until([task_id], {"completed"}, horizon=timedelta(hours=2))
    feed = (await client.get(f"/api/v1/notifications/events?after={last_id}", headers=me)).json()
    (event,) = feed["items"]
    assert event["type"] == "task.completed" and feed["last_id"] == event["id"]
    assert event["data"] == {"task_id": str(task_id), "task_name": "engine test", "status": "completed"}
    again = (await client.get(f"/api/v1/notifications/events?after={feed['last_id']}", headers=me)).json()
    assert again == {"items": [], "last_id": feed["last_id"]}


async def test_a_restriction_is_one_event_per_account_and_the_pause_has_its_reason(h: Harness) -> None:
    a, b = await h.accounts(2)
    first = await h.task(40, [a])
    second = await h.task(40, [a, b], settings={"breaker": {"restricted_lanes": 2, "restricted_share": 1}})
    h.simulator.inject("PEER_FLOOD", count=1, account_id=a)
    await h.control(first, "start")
    await h.control(second, "start")
    await simulate(h.rt, h.clock, h.queue, until=_never, horizon=timedelta(hours=3))
    async with h.rt.db.session() as s:
        events = (await service.feed(s, h.user, 0, 100)).items
    restricted = [e for e in events if e.type is T.ACCOUNT_RESTRICTED]
    assert len(restricted) == 1, "the account's lanes in two tasks are one transition"
    assert restricted[0].data["account_id"] == a and restricted[0].data["platform"] == "sandbox"
    assert "until" in restricted[0].data
    (paused,) = [e for e in events if e.type is T.TASK_PAUSED]
    assert paused.data["task_id"] == str(first) and paused.data["reason"]
    (completed,) = [e for e in events if e.type is T.TASK_COMPLETED]
    assert completed.data["task_id"] == str(second)
