"""Two users: every route tried with the other user's ids is a 404, and no list shows the other's rows."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.asyncio


async def test_other_users_objects_are_404_everywhere(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    alice, bob = new_user(), new_user()
    task = (
        await client.post(
            "/api/v1/tasks",
            json={"name": "Alice's", "action": "invite", "destination": "@alice_group"},
            headers=alice,
        )
    ).json()
    tid = task["id"]
    target = (
        await client.post(f"/api/v1/tasks/{tid}/targets", json={"username": "friend_one"}, headers=alice)
    ).json()
    xid = target["id"]

    routes = [
        ("GET", f"/api/v1/tasks/{tid}", None),
        ("PUT", f"/api/v1/tasks/{tid}", {"name": "stolen"}),
        ("DELETE", f"/api/v1/tasks/{tid}", None),
        ("POST", f"/api/v1/tasks/{tid}/duplicate", {"include_targets": True}),
        ("GET", f"/api/v1/tasks/{tid}/targets", None),
        ("POST", f"/api/v1/tasks/{tid}/targets", {"username": "intruder"}),
        ("POST", f"/api/v1/tasks/{tid}/targets/bulk", {"targets": [{"username": "intruder"}]}),
        ("POST", f"/api/v1/tasks/{tid}/targets/bulk-action", {"action": "delete", "filter": {}}),
        ("GET", f"/api/v1/tasks/{tid}/targets/stats", None),
        ("GET", f"/api/v1/tasks/{tid}/targets/{xid}", None),
        ("PUT", f"/api/v1/tasks/{tid}/targets/{xid}", {"first_name": "x"}),
        ("DELETE", f"/api/v1/tasks/{tid}/targets/{xid}", None),
    ]
    for method, url, body in routes:
        resp = await client.request(method, url, json=body, headers=bob)
        assert resp.status_code == 404, f"{method} {url}: {resp.status_code}"
        assert resp.headers["content-type"].startswith("application/problem+json")

    bulk = await client.post("/api/v1/tasks/bulk", json={"action": "DELETE", "task_ids": [tid]}, headers=bob)
    assert bulk.json()["results"][0]["status"] == 404

    # Alice still has everything, untouched.
    mine = (await client.get(f"/api/v1/tasks/{tid}", headers=alice)).json()
    assert mine["name"] == "Alice's"
    assert mine["counters"]["total"] == 1
    # Bob's lists show none of it.
    assert (await client.get("/api/v1/tasks", headers=bob)).json() == {
        "items": [],
        "next_cursor": None,
        "total": 0,
    }
    assert (await client.get("/api/v1/audit", headers=bob)).json()["total"] == 0
    assert (await client.get("/api/v1/audit", headers=alice)).json()["total"] >= 2


async def test_audit_trail_records_each_change(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    tid = (
        await client.post("/api/v1/tasks", json={"name": "A", "destination": "@some_group"}, headers=h)
    ).json()["id"]
    await client.put(f"/api/v1/tasks/{tid}", json={"name": "B"}, headers=h)
    await client.post(
        f"/api/v1/tasks/{tid}/targets/bulk", json={"targets": [{"username": "abcde"}]}, headers=h
    )
    await client.delete(
        f"/api/v1/tasks/{tid}",
        headers=h,
    )
    events = (await client.get("/api/v1/audit", headers=h)).json()["items"]
    assert [e["action"] for e in events] == [
        "task.delete",
        "target.bulk_create",
        "task.update",
        "task.create",
    ]
    assert all(e["object_id"] == tid for e in events)
    assert all(e["request_id"] for e in events)
