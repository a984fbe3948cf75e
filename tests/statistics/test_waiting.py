"""A task that sends nothing says why and until when (issue 15 §1): in ``GET /tasks/{id}/status``, in the
task list's items and in ``GET /tasks/{id}``, for each reason — the hourly cap, a FLOOD_WAIT cooldown, the
send window, a scheduled start — and per lane ("at limit until …"). The start dialog's estimate names the
step and the caps. The engine runs for real on the simulated clock and messenger (``tests/execution``'s
harness), so every wait is the one the engine itself chose."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select

from invite_service.models import Lane
from invite_service.sandbox.model import TargetFate
from invite_service.stores.waiting import account_waiting
from invite_service.workers.stepped import simulate
from tests.execution.harness import START, Harness, name_with

pytestmark = pytest.mark.asyncio


def ok_names(n: int, prefix: str = "ok") -> list[str]:
    return [name_with(TargetFate.OK, f"{prefix}{i}_") for i in range(n)]


async def lanes_of(h: Harness, task_id: uuid.UUID) -> list[Lane]:
    async with h.rt.db.session() as s:
        return list((await s.scalars(select(Lane).where(Lane.task_id == task_id))).all())


async def views(
    api: httpx.AsyncClient, task_id: uuid.UUID
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The task's status, its list item and its own view: every place ``waiting`` shows."""
    status = await api.get(f"/api/v1/tasks/{task_id}/status")
    assert status.status_code == 200, status.text
    page = await api.get("/api/v1/tasks")
    assert page.status_code == 200, page.text
    [item] = [t for t in page.json()["items"] if t["id"] == str(task_id)]
    one = await api.get(f"/api/v1/tasks/{task_id}")
    assert one.status_code == 200, one.text
    return status.json(), item, one.json()


def at(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


async def test_a_task_at_its_hourly_cap_waits_for_the_cap_until_the_oldest_call_leaves_it(
    h: Harness, api: httpx.AsyncClient
) -> None:
    [account] = await h.accounts(1)
    tid = await h.task(0, [account], usernames=ok_names(5), settings={"caps": {"invites_per_hour": 2}})
    await h.control(tid, "start")

    async def parked_at_cap() -> bool:
        return any(lane.wait_reason == "cap" for lane in await lanes_of(h, tid))

    assert await simulate(h.rt, h.clock, h.queue, until=parked_at_cap, horizon=timedelta(minutes=30))
    assert (await h.target_states(tid)).get("invited") == 2  # two sent, the hour is full
    [lane] = await lanes_of(h, tid)
    assert lane.next_action_at is not None and lane.next_action_at > h.clock.now()

    status, item, one = await views(api, tid)
    expected = {
        "reason": "cap",
        "until": lane.next_action_at,
        "window_seconds": 3600,
        "accounts": 1,
    }
    for body in (status, item, one):
        waiting = body["waiting"]
        assert waiting is not None, body
        assert {**waiting, "until": at(waiting["until"])} == expected
    # The hour frees when its first call is an hour old.
    assert at(status["waiting"]["until"]) - h.clock.now() <= timedelta(hours=1)
    # The lane says "at limit until …" on its own.
    [lane_out] = status["lanes"]
    assert lane_out["waiting"]["reason"] == "cap"
    assert lane_out["waiting"]["window_seconds"] == 3600
    assert at(lane_out["waiting"]["until"]) == lane.next_action_at
    # The account's strongest hold across tasks (what GET /accounts shows as "at limit until …").
    async with h.rt.db.session() as s:
        held = await account_waiting(s, h.user, [account], h.clock.now())
    assert held[account].reason == "cap" and held[account].until == lane.next_action_at

    # When the hour has passed the lane sends again, and nothing says "waiting" while it can.
    h.clock.set(lane.next_action_at + timedelta(seconds=1))
    status, item, _ = await views(api, tid)
    assert status["waiting"] is None and item["waiting"] is None
    assert status["lanes"][0]["waiting"] is None


async def test_a_flood_wait_cools_the_account_down_and_the_task_says_until_when(
    h: Harness, api: httpx.AsyncClient
) -> None:
    [account] = await h.accounts(1)
    tid = await h.task(0, [account], usernames=ok_names(4))
    h.simulator.inject("FLOOD_WAIT_X", seconds=1800, account_id=account)
    await h.control(tid, "start")

    async def cooling() -> bool:
        return any(lane.status == "cooling_down" for lane in await lanes_of(h, tid))

    assert await simulate(h.rt, h.clock, h.queue, until=cooling, horizon=timedelta(minutes=10))
    [lane] = await lanes_of(h, tid)
    assert lane.cooldown_until is not None
    # The engine waits Telegram's 1800 s and a safety margin on top.
    assert lane.cooldown_until - h.clock.now() >= timedelta(seconds=1800)

    status, item, one = await views(api, tid)
    for body in (status, item, one):
        waiting = body["waiting"]
        assert waiting["reason"] == "flood_wait", body
        assert at(waiting["until"]) == lane.cooldown_until
        assert waiting["window_seconds"] is None and waiting["accounts"] == 1
    assert status["lanes"][0]["waiting"]["reason"] == "flood_wait"


async def test_outside_the_send_window_the_task_waits_for_its_next_opening(
    h: Harness, api: httpx.AsyncClient
) -> None:
    [account] = await h.accounts(1)
    window = {"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "18:00", "timezone": "Europe/Berlin"}
    tid = await h.task(0, [account], usernames=ok_names(3), settings={"send_window": window})
    await h.control(tid, "start")  # Monday 06:00 UTC is 07:00 in Berlin: closed
    await simulate(h.rt, h.clock, h.queue, until=_never, horizon=timedelta(minutes=5))
    assert await h.status(tid) == "running"
    assert (await h.target_states(tid)) == {"pending": 3}  # nothing was sent before the window opened

    opens = datetime.fromisoformat("2026-03-02T08:00:00+00:00")  # 09:00 in Berlin (winter time)
    status, item, one = await views(api, tid)
    for body in (status, item, one):
        assert body["waiting"] == {
            "reason": "send_window",
            "until": body["waiting"]["until"],
            "window_seconds": None,
            "accounts": 0,
        }
        assert at(body["waiting"]["until"]) == opens
    assert status["send_window"]["open"] is False


async def test_a_scheduled_task_waits_for_its_start(h: Harness, api: httpx.AsyncClient) -> None:
    [account] = await h.accounts(1)
    when = START + timedelta(hours=3)
    tid = await h.task(0, [account], usernames=ok_names(2), scheduled_at=when.isoformat())
    await h.control(tid, "start")
    assert await h.status(tid) == "scheduled"

    status, item, one = await views(api, tid)
    for body in (status, item, one):
        assert body["waiting"]["reason"] == "scheduled"
        assert at(body["waiting"]["until"]) == when
        assert body["waiting"]["accounts"] == 0
    # A draft or a finished task is not waiting.
    draft = await h.task(0, [account], usernames=ok_names(1, "d"))
    status, item, _ = await views(api, draft)
    assert status["waiting"] is None and item["waiting"] is None


async def test_no_account_able_to_send_says_restricted_until_the_restriction_ends(
    h: Harness, api: httpx.AsyncClient
) -> None:
    gone, flagged = await h.accounts(2)
    # A breaker that never trips here, so the task keeps running and waits.
    breaker = {"restricted_lanes": 5, "restricted_share": 1.0}
    tid = await h.task(0, [gone, flagged], usernames=ok_names(6), settings={"breaker": breaker})
    h.simulator.revoke_session(gone)  # needs its owner: no end
    h.simulator.inject("PEER_FLOOD", account_id=flagged)  # restricted for a while
    await h.control(tid, "start")

    async def both_stopped() -> bool:
        return {lane.account_id: lane.status for lane in await lanes_of(h, tid)} == {
            gone: "unavailable",
            flagged: "restricted",
        }

    assert await simulate(h.rt, h.clock, h.queue, until=both_stopped, horizon=timedelta(minutes=30))
    assert await h.status(tid) == "running"
    [end] = [lane.cooldown_until for lane in await lanes_of(h, tid) if lane.account_id == flagged]
    assert end is not None

    status, item, one = await views(api, tid)
    for body in (status, item, one):
        assert body["waiting"]["reason"] == "restricted"
        assert at(body["waiting"]["until"]) == end  # the restriction that ends first
        assert body["waiting"]["accounts"] == 2
    by_account = {lane["account_id"]: lane["waiting"] for lane in status["lanes"]}
    assert by_account[gone] == {"reason": "restricted", "until": None, "window_seconds": None, "accounts": 1}
    assert at(by_account[flagged]["until"]) == end


async def test_the_estimate_of_a_draft_names_its_accounts_step_and_caps(
    h: Harness, api: httpx.AsyncClient
) -> None:
    a, b = await h.accounts(2)
    caps = {"invites_per_hour": 5, "invites_per_day": 50}
    tid = await h.task(0, [a, b], usernames=ok_names(12), settings={"caps": caps})
    status = (await api.get(f"/api/v1/tasks/{tid}/status")).json()
    estimate = status["estimate"]
    assert estimate["basis"] == "if_started_now"
    assert estimate["lanes"] == 2 and estimate["remaining"] == 12
    assert estimate["step"] == "invite"
    # The task's own caps lower the sandbox's 120 an hour and 1000 a day.
    assert estimate["caps"] == [{"window_seconds": 3600, "limit": 5}, {"window_seconds": 86400, "limit": 50}]
    # 12 targets, 2 accounts at 5 an hour each: 10 in the first hour, the last 2 an hour later.
    eta = at(status["eta"])
    assert eta is not None and timedelta(hours=1) <= eta - h.clock.now() <= timedelta(hours=1, minutes=5)

    # A message task counts messages, with the platform's caps where the task sets none.
    mid = await h.task(
        0,
        [a],
        usernames=ok_names(3, "m"),
        action="message",
        destination=None,
        message_template="Hi {first_name}",
    )
    message = (await api.get(f"/api/v1/tasks/{mid}/status")).json()["estimate"]
    assert message["step"] == "message"
    assert message["caps"] == [
        {"window_seconds": 3600, "limit": 120},
        {"window_seconds": 86400, "limit": 1000},
    ]


async def test_the_task_list_reads_no_more_for_more_waiting_tasks(h: Harness, api: httpx.AsyncClient) -> None:
    """``waiting`` on a page of tasks comes from the reads the list already makes (set-based): a page of
    eight waiting tasks costs the same statements as a page of two."""
    [account] = await h.accounts(1)
    window = {"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "18:00", "timezone": "UTC"}

    async def add(n: int) -> None:
        for i in range(n):
            tid = await h.task(
                0, [account], usernames=ok_names(1, f"p{i}_"), settings={"send_window": window}
            )
            await h.control(tid, "start")

    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    async def listed() -> tuple[int, list[dict[str, Any]]]:
        statements.clear()
        event.listen(h.rt.db.engine.sync_engine, "before_cursor_execute", count)
        try:
            page = await api.get("/api/v1/tasks", params={"limit": 50})
        finally:
            event.remove(h.rt.db.engine.sync_engine, "before_cursor_execute", count)
        assert page.status_code == 200, page.text
        return len(statements), page.json()["items"]

    await add(2)
    few, items = await listed()
    assert len(items) == 2 and {t["waiting"]["reason"] for t in items} == {"send_window"}
    await add(6)
    many, items = await listed()
    assert len(items) == 8 and {t["waiting"]["reason"] for t in items} == {"send_window"}
    assert many == few


async def _never() -> bool:
    return False
