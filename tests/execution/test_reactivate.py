"""An account whose session was revoked stops in every task ("unavailable") until the user acts: fixed in the
Integration Service, then reactivated here. A restriction is never lifted early."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from invite_service.auth.jwt import mint_token
from invite_service.main import create_app
from invite_service.models import AuditEvent, Lane
from invite_service.workers.stepped import simulate
from tests.execution.harness import Harness

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def api(h: Harness) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(h.settings, runtime=h.rt)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        client.headers["Authorization"] = f"Bearer {mint_token(h.user, h.settings)}"
        yield client


async def lane_states(h: Harness, task_id: uuid.UUID) -> dict[str, str]:
    async with h.rt.db.session() as s:
        lanes = await s.scalars(select(Lane).where(Lane.task_id == task_id))
        return {lane.account_id: lane.status for lane in lanes}


async def test_a_revoked_account_returns_to_work_only_when_fixed_and_a_restriction_stays(
    h: Harness, api: httpx.AsyncClient
) -> None:
    revoked, flagged = await h.accounts(2)
    tid = await h.task(40, [revoked, flagged])
    h.simulator.revoke_session(revoked)  # logged out by its owner: AUTH_KEY_UNREGISTERED
    h.simulator.inject("PEER_FLOOD", account_id=flagged)  # the platform restricts the other one
    await h.control(tid, "start")

    async def both_stopped() -> bool:
        return await lane_states(h, tid) == {revoked: "unavailable", flagged: "restricted"}

    assert await simulate(h.rt, h.clock, h.queue, until=both_stopped, horizon=timedelta(hours=1))
    stopped_at = h.clock.now()
    assert await h.status(tid) == "paused"  # no lane left to work with

    # Still logged out: the platform says so, nothing changes.
    refused = await api.post(f"/api/v1/accounts/{revoked}/reactivate")
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "account_unavailable"
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert await lane_states(h, tid) == {revoked: "unavailable", flagged: "restricted"}
    # Someone else's account, or none at all: 404 either way.
    other = {"Authorization": f"Bearer {mint_token('someone-else', h.settings)}"}
    assert (await api.post(f"/api/v1/accounts/{revoked}/reactivate", headers=other)).status_code == 404
    assert (await api.post("/api/v1/accounts/no-such-account/reactivate")).status_code == 404
    # The flagged account looks fine to the platform now, but our restriction runs its full time.
    kept = await api.post(f"/api/v1/accounts/{flagged}/reactivate")
    assert kept.status_code == 200 and kept.json()["lanes_reactivated"] == 0
    assert await lane_states(h, tid) == {revoked: "unavailable", flagged: "restricted"}

    h.simulator.restore_session(revoked)  # logged in again, in the Integration Service
    done = await api.post(f"/api/v1/accounts/{revoked}/reactivate")
    assert done.status_code == 200, done.text
    assert done.json() == {
        "account_id": revoked,
        "status": "active",
        "lanes_reactivated": 1,
        "task_ids": [str(tid)],
        "paused_task_ids": [str(tid)],  # resuming is the user's call
    }
    assert await lane_states(h, tid) == {revoked: "active", flagged: "restricted"}
    async with h.rt.db.session() as s:
        actions = list(await s.scalars(select(AuditEvent.action).where(AuditEvent.user_id == h.user)))
    assert "account.reactivate" in actions
    again = await api.post(f"/api/v1/accounts/{revoked}/reactivate")
    assert again.json()["lanes_reactivated"] == 0  # harmless to repeat

    await h.control(tid, "resume")
    assert await h.run_until([tid], {"completed"}, horizon=timedelta(hours=6))
    after = [e for e in h.simulator.ledger() if e.at > stopped_at]
    assert {e.account_id for e in after} == {revoked}, "only the fixed account worked; the flagged one rested"
    assert await h.target_states(tid) == await h.counters(tid)
