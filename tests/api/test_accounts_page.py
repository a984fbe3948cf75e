"""GET /accounts: the standard page shape, each account marked simulated, the tasks using it, and why
it waits (a full hourly cap with the time it frees, a FLOOD_WAIT cooldown, a restriction)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from invite_service.config import Settings
from invite_service.config.settings import DEFAULT_PLATFORM_CAPS, PlatformCaps
from invite_service.workers.stepped import simulate
from tests.api.conftest import api_client
from tests.execution.harness import Harness, make_harness

pytestmark = pytest.mark.asyncio
HOURLY_CAP = 3


@pytest.fixture
async def h(db_url: str) -> AsyncIterator[Harness]:
    # A sandbox whose hourly invite cap is tiny, so a few sends fill it.
    caps = {
        **DEFAULT_PLATFORM_CAPS,
        "sandbox": PlatformCaps(invites_per_hour=HOURLY_CAP, invites_per_day=100, min_delay_seconds=1.0),
    }
    harness = await make_harness(
        db_url, settings=Settings(database_url=db_url, log_level="WARNING", platform_caps=caps)
    )
    yield harness
    await harness.rt.db.dispose()


async def accounts_page(h: Harness, **params: Any) -> dict[str, Any]:
    async with api_client(h) as api:
        resp = await api.get("/api/v1/accounts", params={"platform": "sandbox", **params})
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def test_the_page_shape_simulated_and_the_tasks_using_each_account(h: Harness) -> None:
    first, second = await h.accounts(2)
    draft = await h.task(3, [first], name="Draft on the first")
    both = await h.task(3, [first, second], name="Both accounts")
    over = await h.task(3, [second], name="Cancelled")
    await h.control(over, "start")
    await h.control(over, "cancel")

    page = await accounts_page(h)
    assert set(page) == {"items", "next_cursor", "total"}
    assert page["next_cursor"] is None
    by_id = {a["id"]: a for a in page["items"]}
    assert {first, second} <= set(by_id)
    assert page["total"] == len(page["items"])
    assert all(a["simulated"] for a in page["items"]), "sandbox accounts are simulated"
    assert all(a["waiting"] is None for a in page["items"]), "nothing was sent: no account waits"
    assert by_id[first]["tasks"] == [
        {"id": str(both), "name": "Both accounts", "status": "draft"},
        {"id": str(draft), "name": "Draft on the first", "status": "draft"},
    ]
    # A finished (cancelled) task is not "using" the account any more.
    assert by_id[second]["tasks"] == [{"id": str(both), "name": "Both accounts", "status": "draft"}]

    # Pages of one: the cursor walks the same list.
    seen: list[str] = []
    cursor = None
    while True:
        one = await accounts_page(h, limit=1, **({"cursor": cursor} if cursor else {}))
        assert len(one["items"]) == 1
        seen.append(one["items"][0]["id"])
        cursor = one["next_cursor"]
        if cursor is None:
            break
    assert seen == [a["id"] for a in page["items"]]

    async with api_client(h) as api:
        bad = await api.get("/api/v1/accounts", params={"cursor": "not-a-cursor"})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["loc"] == ["query", "cursor"]
        # Every platform without the filter; the embedded profile simulates Telegram too.
        everything = (await api.get("/api/v1/accounts")).json()["items"]
    assert {a["platform"] for a in everything} == {"telegram", "sandbox"}
    assert all(a["simulated"] for a in everything)


async def test_an_account_at_its_hourly_cap_waits_until_the_oldest_send_leaves_the_window(
    h: Harness,
) -> None:
    account = (await h.accounts(1))[0]
    tid = await h.task(10, [account], name="Capped")
    await h.control(tid, "start")
    started = h.clock.now()

    async def capped() -> bool:
        return len(h.simulator.ledger(account_id=account)) >= HOURLY_CAP

    assert await simulate(h.rt, h.clock, h.queue, until=capped, horizon=timedelta(minutes=30))
    # Well inside the hour: the cap holds, nothing more is sent.
    await simulate(h.rt, h.clock, h.queue, until=_never, horizon=timedelta(minutes=10))
    sends = h.simulator.ledger(account_id=account)
    assert len(sends) == HOURLY_CAP

    page = await accounts_page(h)
    acc = next(a for a in page["items"] if a["id"] == account)
    hourly = next(u for u in acc["usage"] if u["action"] == "invite" and u["window_seconds"] == 3600)
    assert (hourly["used"], hourly["limit"], hourly["remaining"]) == (HOURLY_CAP, HOURLY_CAP, 0)
    assert acc["status"] == "active"  # the platform has nothing against it: it is our cap
    waiting = acc["waiting"]
    assert waiting is not None
    assert (waiting["reason"], waiting["window_seconds"], waiting["accounts"]) == ("cap", 3600, 1)
    until = when(waiting["until"])
    assert until == when(hourly["resets_at"])
    assert until is not None
    # The first counted send leaves the window an hour after it was made.
    first_send = sends[0].at
    assert started <= first_send
    assert abs((until - timedelta(hours=1)) - first_send) <= timedelta(seconds=1)
    assert until > h.clock.now()
    assert acc["tasks"] == [{"id": str(tid), "name": "Capped", "status": "running"}]

    # Once the window has room again the account no longer waits.
    h.clock.advance((until - h.clock.now()).total_seconds() + 1)
    again = next(a for a in (await accounts_page(h))["items"] if a["id"] == account)
    assert again["waiting"] is None


async def test_a_flood_wait_and_a_restriction_are_the_reasons_an_account_waits(h: Harness) -> None:
    flooded, restricted = await h.accounts(2)
    tid = await h.task(
        10,
        [flooded, restricted],
        name="Trouble",
        settings={"breaker": {"restricted_lanes": 2, "restricted_share": 1}},
    )
    h.simulator.inject("FLOOD_WAIT_X", count=1, seconds=600, account_id=flooded)
    h.simulator.inject("PEER_FLOOD", count=1, account_id=restricted)
    await h.control(tid, "start")

    async def both_held() -> bool:
        page = await accounts_page(h)
        reasons = {a["id"]: (a["waiting"] or {}).get("reason") for a in page["items"]}
        return reasons.get(flooded) == "flood_wait" and reasons.get(restricted) == "restricted"

    assert await simulate(h.rt, h.clock, h.queue, until=both_held, horizon=timedelta(minutes=5))
    by_id = {a["id"]: a for a in (await accounts_page(h))["items"]}
    flood = by_id[flooded]
    assert flood["status"] == "cooling_down"
    assert flood["waiting"]["until"] == flood["cooldown_until"]
    assert when(flood["waiting"]["until"]) > h.clock.now()  # type: ignore[operator]
    assert flood["waiting"]["window_seconds"] is None
    assert by_id[restricted]["status"] == "restricted"
    assert by_id[restricted]["waiting"]["reason"] == "restricted"


async def _never() -> bool:
    return False
