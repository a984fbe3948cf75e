"""``POST /tasks/{id}/test-message`` over the app with the embedded sandbox, on SQLite and PostgreSQL: it
renders, goes through the sandbox adapter (the simulator's ledger has it) under the engine's limiter (the
caps count it), is audited, and never touches the task's targets or counters."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from invite_service.sandbox.model import TargetFate, target_fate
from invite_service.sandbox.simulator import TelegramSimulator
from tests.invite_tasks.test_templates_api import add_targets, message_task, sandbox_accounts

pytestmark = pytest.mark.asyncio


def simulator(app: Any) -> TelegramSimulator:
    sim = app.state.runtime.adapters.get("sandbox").simulator
    assert isinstance(sim, TelegramSimulator)
    return sim


def reachable(sim: TelegramSimulator, prefix: str) -> str:
    """A username the sandbox delivers to (its audience's fates are fixed by its seed)."""
    return next(
        f"{prefix}{n:03d}"
        for n in range(1000)
        if target_fate(sim.config, f"{prefix}{n:03d}") is TargetFate.OK
    )


async def test_the_test_message_is_rendered_sent_through_the_sandbox_and_audited(
    client: httpx.AsyncClient,
    new_user,  # type: ignore[no-untyped-def]
    app,  # type: ignore[no-untyped-def]
) -> None:
    h = new_user()
    sim = simulator(app)
    resp = await message_task(client, h, message_template="Привет, {first_name|друг}! Город: {city|—}")
    assert resp.status_code == 201, resp.text
    tid = resp.json()["id"]
    await add_targets(
        client, h, tid, [{"username": "anna_target", "first_name": "Анна", "fields": {"city": "Казань"}}]
    )
    [target] = (await client.get(f"/api/v1/tasks/{tid}/targets", headers=h)).json()["items"]
    me = reachable(sim, "tester_me_")
    [account] = (await client.get(f"/api/v1/tasks/{tid}", headers=h)).json()["account_ids"]

    sent = await client.post(
        f"/api/v1/tasks/{tid}/test-message", json={"to": f"@{me}", "target_id": target["id"]}, headers=h
    )
    assert sent.status_code == 200, sent.text
    assert sent.json() == {
        "rendered": "Привет, Анна! Город: Казань",
        "account_id": account,
        "outcome": "success",
        "error_code": None,
        "detail": sent.json()["detail"],
    }
    sample = await client.post(f"/api/v1/tasks/{tid}/test-message", json={"to": me}, headers=h)
    assert sample.status_code == 200, sample.text
    assert sample.json()["rendered"] == "Привет, друг! Город: —"  # a sample has empty fields: the fallbacks

    delivered = [(e.target, e.text) for e in sim.ledger(account_id=account, action="message")]
    assert delivered == [(me, "Привет, Анна! Город: Казань"), (me, "Привет, друг! Город: —")]

    task = (await client.get(f"/api/v1/tasks/{tid}", headers=h)).json()
    assert task["counters"]["total"] == 1 and task["counters"]["pending"] == 1  # no target made or moved
    assert task["counters"]["messaged"] == 0
    targets = (await client.get(f"/api/v1/tasks/{tid}/targets", headers=h)).json()["items"]
    assert [(t["id"], t["status"]) for t in targets] == [(target["id"], "pending")]
    audit = (await client.get("/api/v1/audit", headers=h)).json()["items"]
    tests = [e for e in audit if e["action"] == "task.test_message"]
    assert len(tests) == 2
    assert {e["object_id"] for e in tests} == {tid}
    assert me not in str(tests)  # the address is not kept (it may be a phone number)


async def test_it_counts_against_the_message_cap(client: httpx.AsyncClient, new_user, app) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    sim = simulator(app)
    tid = (
        await message_task(client, h, settings={"caps": {"messages_per_hour": 1}}, message_template="Hello")
    ).json()["id"]
    me = reachable(sim, "capped_me_")
    first = await client.post(f"/api/v1/tasks/{tid}/test-message", json={"to": me}, headers=h)
    assert first.status_code == 200, first.text
    account = first.json()["account_id"]
    usage = (await client.get("/api/v1/accounts", params={"platform": "sandbox"}, headers=h)).json()
    accounts = usage["items"] if isinstance(usage, dict) else usage
    [mine] = [a for a in accounts if a["id"] == account]
    # The accounts API counts from the same ledger: the platform's hourly message window shows the send.
    [hourly] = [u for u in mine["usage"] if u["action"] == "message" and u["window_seconds"] == 3600]
    assert hourly["used"] == 1

    full = await client.post(f"/api/v1/tasks/{tid}/test-message", json={"to": me}, headers=h)
    assert full.status_code == 429, full.text
    problem = full.json()
    assert problem["code"] == "CAP_REACHED"
    assert problem["window_seconds"] == 3600
    assert problem["account_id"] == account
    assert problem["until"] is not None
    assert int(full.headers["Retry-After"]) > 3000
    assert len(sim.ledger(account_id=account, action="message")) == 1  # the refused one never left


async def test_refusals(client: httpx.AsyncClient, new_user, app) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    sim = simulator(app)
    me = reachable(sim, "refused_me_")
    accounts = await sandbox_accounts(client, h)
    invite = await client.post(
        "/api/v1/tasks",
        json={
            "name": "Invite only",
            "platform": "sandbox",
            "action": "invite",
            "destination": "@demo_chat",
            "account_ids": accounts[:1],
        },
        headers=h,
    )
    refused = await client.post(
        f"/api/v1/tasks/{invite.json()['id']}/test-message", json={"to": me}, headers=h
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "NOT_A_MESSAGE_TASK"

    tid = (await message_task(client, h)).json()["id"]
    other = await client.post(f"/api/v1/tasks/{tid}/test-message", json={"to": me}, headers=new_user())
    assert other.status_code == 404
    bad_to = await client.post(f"/api/v1/tasks/{tid}/test-message", json={"to": "a b"}, headers=h)
    assert bad_to.status_code == 422 and bad_to.json()["errors"][0]["loc"] == ["body", "to"]
    not_mine = await client.post(
        f"/api/v1/tasks/{tid}/test-message", json={"to": me, "account_id": accounts[-1]}, headers=h
    )
    assert not_mine.status_code == 422 and not_mine.json()["errors"][0]["loc"] == ["body", "account_id"]
    no_target = await client.post(
        f"/api/v1/tasks/{tid}/test-message", json={"to": me, "target_id": 1}, headers=h
    )
    assert no_target.status_code == 422 and no_target.json()["errors"][0]["loc"] == ["body", "target_id"]
    assert sim.ledger(action="message", account_id=accounts[0]) == []
    counters = (await client.get(f"/api/v1/tasks/{tid}", headers=h)).json()["counters"]
    assert counters["total"] == 0


async def test_an_idempotency_key_replays_instead_of_sending_again(
    client: httpx.AsyncClient,
    new_user,  # type: ignore[no-untyped-def]
    app,  # type: ignore[no-untyped-def]
) -> None:
    h = new_user()
    sim = simulator(app)
    me = reachable(sim, "replay_me_")
    tid = (await message_task(client, h)).json()["id"]
    headers = {**h, "Idempotency-Key": "test-1"}
    first = await client.post(f"/api/v1/tasks/{tid}/test-message", json={"to": me}, headers=headers)
    again = await client.post(f"/api/v1/tasks/{tid}/test-message", json={"to": me}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert len(sim.ledger(account_id=first.json()["account_id"], action="message")) == 1


async def test_a_platform_wait_holds_the_account_as_the_engine_would(
    client: httpx.AsyncClient,
    new_user,  # type: ignore[no-untyped-def]
    app,  # type: ignore[no-untyped-def]
) -> None:
    h = new_user()
    sim = simulator(app)
    me = reachable(sim, "flood_me_")
    tid = (await message_task(client, h)).json()["id"]
    [account] = (await client.get(f"/api/v1/tasks/{tid}", headers=h)).json()["account_ids"]
    sim.inject("FLOOD_WAIT_X", seconds=120, account_id=account)
    answer = await client.post(f"/api/v1/tasks/{tid}/test-message", json={"to": me}, headers=h)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["outcome"], answer.json()["error_code"]) == ("retry_after", "FLOOD_WAIT_X")
    [lane] = (await client.get(f"/api/v1/tasks/{tid}/lanes", headers=h)).json()
    assert lane["status"] == "cooling_down" and lane["cooldown_until"] is not None
    again = await client.post(f"/api/v1/tasks/{tid}/test-message", json={"to": me}, headers=h)
    assert again.status_code == 429 and again.json()["code"] == "ACCOUNT_WAITING"
    assert again.json()["reason"] == "flood_wait"
