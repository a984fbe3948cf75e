"""Tasks API over the ASGI app, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from invite_service.models.enums import TaskStatus

pytestmark = pytest.mark.asyncio


def invite_task(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Spring meetup",
        "platform": "telegram",
        "action": "invite",
        "destination": "https://t.me/Spring_Meetup",
        "settings": {"caps": {"invites_per_hour": 3}, "send_window": {"timezone": "Europe/Moscow"}},
    }
    body.update(over)
    return body


async def account_ids(
    client: httpx.AsyncClient, headers: dict[str, str], platform: str = "telegram"
) -> list[str]:
    resp = await client.get("/api/v1/accounts", params={"platform": platform}, headers=headers)
    assert resp.status_code == 200, resp.text
    return [a["id"] for a in resp.json()["items"]]


async def create(client: httpx.AsyncClient, headers: dict[str, str], **over: Any) -> dict[str, Any]:
    body = invite_task(**over)
    body.setdefault("account_ids", (await account_ids(client, headers))[:2])
    resp = await client.post("/api/v1/tasks", json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


async def test_create_normalizes_and_returns_the_task(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    headers = new_user()
    task = await create(client, headers)
    assert task["destination"] == "@spring_meetup"
    assert task["status"] == "draft"
    assert task["priority"] == "normal"
    assert task["account_ids"] == (await account_ids(client, headers))[:2]
    assert task["settings"]["caps"]["invites_per_hour"] == 3
    assert task["settings"]["max_attempts"] == 3
    assert task["counters"]["total"] == 0
    got = await client.get(f"/api/v1/tasks/{task['id']}", headers=headers)
    assert got.status_code == 200
    assert got.json()["name"] == "Spring meetup"


async def test_list_filters_sorts_and_pages(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    headers = new_user()
    names = [f"Task {i:02d}" for i in range(7)]
    for i, name in enumerate(names):
        await create(client, headers, name=name, priority=["low", "normal", "high"][i % 3])
    await create(
        client,
        headers,
        name="Newsletter",
        action="message",
        message_template="Hi {first_name}",
        destination=None,
    )

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, "sort": "name"}
        if cursor:
            params["cursor"] = cursor
        else:
            params["with_total"] = "true"  # a page that does not hold every match counts only when asked
        page = (await client.get("/api/v1/tasks", params=params, headers=headers)).json()
        assert page["total"] == (None if cursor else 8)
        seen += [t["name"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted([*names, "Newsletter"])

    high = (await client.get("/api/v1/tasks", params={"priority": "high"}, headers=headers)).json()
    assert {t["name"] for t in high["items"]} == {"Task 02", "Task 05"}
    msg = (await client.get("/api/v1/tasks", params={"action": "message"}, headers=headers)).json()
    assert [t["name"] for t in msg["items"]] == ["Newsletter"]
    found = (await client.get("/api/v1/tasks", params={"q": "task 0"}, headers=headers)).json()
    assert found["total"] == 7
    by_prio = (
        await client.get("/api/v1/tasks", params={"sort": "-priority", "limit": 100}, headers=headers)
    ).json()
    ranks = {"high": 2, "normal": 1, "low": 0}
    prios = [ranks[t["priority"]] for t in by_prio["items"]]
    assert prios == sorted(prios, reverse=True)
    statuses = (
        await client.get(
            "/api/v1/tasks", params=[("status", "draft"), ("status", "running")], headers=headers
        )
    ).json()
    assert statuses["total"] == 8
    none = (await client.get("/api/v1/tasks", params={"status": "running"}, headers=headers)).json()
    assert none == {"items": [], "next_cursor": None, "total": 0}


async def test_update_and_delete(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    headers = new_user()
    task = await create(client, headers)
    third = (await account_ids(client, headers))[2]
    unknown = await client.put(
        f"/api/v1/tasks/{task['id']}", json={"account_ids": ["acc-3"]}, headers=headers
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["loc"] == ["body", "account_ids", 0]
    resp = await client.put(
        f"/api/v1/tasks/{task['id']}",
        json={"name": "Renamed", "priority": "high", "account_ids": [third]},
        headers=headers,
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["name"], body["priority"], body["account_ids"]) == ("Renamed", "high", [third])
    assert body["version"] > task["version"]
    assert (await client.delete(f"/api/v1/tasks/{task['id']}", headers=headers)).status_code == 204
    assert (await client.get(f"/api/v1/tasks/{task['id']}", headers=headers)).status_code == 404


async def test_running_task_changes_only_priority(client: httpx.AsyncClient, new_user, database) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from invite_service.models import InviteTask

    headers = new_user()
    task = await create(client, headers)
    async with database.session() as s:
        await s.execute(
            update(InviteTask).where(InviteTask.id == uuid.UUID(task["id"])).values(status="running")
        )
    resp = await client.put(f"/api/v1/tasks/{task['id']}", json={"name": "x"}, headers=headers)
    assert resp.status_code == 409
    assert resp.json()["current_status"] == "running"
    ok = await client.put(f"/api/v1/tasks/{task['id']}", json={"priority": "low"}, headers=headers)
    assert ok.status_code == 200 and ok.json()["priority"] == "low"
    assert (await client.delete(f"/api/v1/tasks/{task['id']}", headers=headers)).status_code == 409
    bulk = await client.post(
        "/api/v1/tasks/bulk", json={"action": "DELETE", "task_ids": [task["id"]]}, headers=headers
    )
    assert bulk.json()["results"][0]["status"] == 409
    assert (
        TaskStatus((await client.get(f"/api/v1/tasks/{task['id']}", headers=headers)).json()["status"])
        is TaskStatus.RUNNING
    )


async def test_bulk_set_priority_and_delete(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    headers = new_user()
    a, b = await create(client, headers, name="a"), await create(client, headers, name="b")
    foreign = await create(client, new_user(), name="not mine")
    resp = await client.post(
        "/api/v1/tasks/bulk",
        json={"action": "SET_PRIORITY", "priority": "high", "task_ids": [a["id"], b["id"], foreign["id"]]},
        headers=headers,
    )
    assert resp.status_code == 200
    out = resp.json()
    assert (out["succeeded"], out["failed"]) == (2, 1)
    assert out["results"][2]["status"] == 404
    listed = (await client.get("/api/v1/tasks", params={"priority": "high"}, headers=headers)).json()
    assert listed["total"] == 2
    resp = await client.post(
        "/api/v1/tasks/bulk", json={"action": "DELETE", "task_ids": [a["id"], b["id"]]}, headers=headers
    )
    assert resp.json()["succeeded"] == 2
    assert (await client.get("/api/v1/tasks", headers=headers)).json()["total"] == 0


async def test_duplicate_with_and_without_targets(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    headers = new_user()
    task = await create(client, headers)
    rows = [{"username": f"member_{i}", "first_name": f"N{i}", "fields": {"city": "Kazan"}} for i in range(5)]
    resp = await client.post(
        f"/api/v1/tasks/{task['id']}/targets/bulk", json={"targets": rows}, headers=headers
    )
    assert resp.json()["created"] == 5
    bare = await client.post(f"/api/v1/tasks/{task['id']}/duplicate", headers=headers)
    assert bare.status_code == 201
    assert bare.json()["counters"]["total"] == 0
    assert bare.json()["name"] == "Spring meetup (copy)"
    assert bare.json()["account_ids"] == task["account_ids"]
    full = await client.post(
        f"/api/v1/tasks/{task['id']}/duplicate",
        json={"include_targets": True, "name": "Again"},
        headers=headers,
    )
    body = full.json()
    assert body["counters"]["total"] == 5 and body["counters"]["pending"] == 5
    targets = (await client.get(f"/api/v1/tasks/{body['id']}/targets", headers=headers)).json()
    assert {t["username"] for t in targets["items"]} == {f"member_{i}" for i in range(5)}
    assert all(t["status"] == "pending" and t["fields"] == {"city": "Kazan"} for t in targets["items"])


async def test_idempotency_key_replays_and_refuses_other_body(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    headers = {**new_user(), "Idempotency-Key": "create-1"}
    first = await client.post("/api/v1/tasks", json=invite_task(), headers=headers)
    again = await client.post("/api/v1/tasks", json=invite_task(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = await client.post("/api/v1/tasks", json=invite_task(name="Other"), headers=headers)
    assert other.status_code == 422
    assert other.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    listed = (await client.get("/api/v1/tasks", headers=headers)).json()
    assert listed["total"] == 1
