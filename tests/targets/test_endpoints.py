"""Targets API on SQLite and PostgreSQL: add, bulk, list, edit, bulk actions, stats."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.asyncio


async def new_task(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    resp = await client.post(
        "/api/v1/tasks",
        json={"name": "Audience", "action": "message", "message_template": "Hi {first_name} from {city}"},
        headers=headers,
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


async def stats(client: httpx.AsyncClient, headers: dict[str, str], task_id: str) -> dict[str, Any]:
    resp = await client.get(f"/api/v1/tasks/{task_id}/targets/stats", headers=headers)
    assert resp.status_code == 200
    return dict(resp.json())


async def test_single_add_duplicate_and_invalid(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    url = f"/api/v1/tasks/{task}/targets"
    created = await client.post(url, json={"username": "@Alice_W", "first_name": "Alice"}, headers=h)
    assert created.status_code == 201, created.text
    assert created.json()["key"] == "alice_w"
    assert created.json()["status"] == "pending"
    dup = await client.post(url, json={"username": "https://t.me/alice_w"}, headers=h)
    assert dup.status_code == 409
    assert dup.json()["code"] == "target_duplicate"
    bad = await client.post(url, json={"phone": "12"}, headers=h)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["body", "phone"]
    none = await client.post(url, json={"first_name": "Nobody"}, headers=h)
    assert none.status_code == 422
    s = await stats(client, h, task)
    assert s["total"] == 1
    assert s["by_status"]["pending"] == 1
    assert s["by_kind"]["username"] == 1


async def test_bulk_reports_every_row(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    rows = [
        {"username": "first_user"},
        {"user_id": 100001, "first_name": "Bob", "fields": {"city": "Omsk"}},
        {"phone": "+7 912 345 67 89"},
        {"username": "First_User"},  # duplicate inside the request
        {"username": "x!"},  # invalid
        {"username": "ok_name", "surprise": 1},  # unknown field
    ]
    resp = await client.post(f"/api/v1/tasks/{task}/targets/bulk", json={"targets": rows}, headers=h)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert (out["created"], out["duplicates"], out["invalid"]) == (3, 1, 2)
    assert [r["result"] for r in out["results"]] == [
        "created",
        "created",
        "created",
        "duplicate",
        "invalid",
        "invalid",
    ]
    assert out["results"][4]["errors"][0]["loc"] == ["body", "targets", 4, "username"]
    assert out["results"][5]["errors"][0]["loc"] == ["body", "targets", 5, "surprise"]
    again = await client.post(f"/api/v1/tasks/{task}/targets/bulk", json={"targets": rows[:2]}, headers=h)
    assert again.json()["duplicates"] == 2
    s = await stats(client, h, task)
    assert (s["total"], s["by_kind"]["user_id"], s["by_kind"]["phone"]) == (3, 1, 1)


async def test_bulk_all_or_nothing_writes_nothing(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    rows = [{"username": "good_one"}, {"phone": "nope"}]
    resp = await client.post(
        f"/api/v1/tasks/{task}/targets/bulk", json={"targets": rows, "all_or_nothing": True}, headers=h
    )
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["loc"] == ["body", "targets", 1, "phone"]
    assert (await stats(client, h, task))["total"] == 0


async def test_bulk_limit(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    rows = [{"user_id": 100_000 + i} for i in range(10_001)]
    resp = await client.post(f"/api/v1/tasks/{task}/targets/bulk", json={"targets": rows}, headers=h)
    assert resp.status_code == 422
    assert (await stats(client, h, task))["total"] == 0


async def test_bulk_ten_thousand(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    rows = [{"user_id": 100_000 + i, "first_name": f"U{i}"} for i in range(10_000)]
    resp = await client.post(f"/api/v1/tasks/{task}/targets/bulk", json={"targets": rows}, headers=h)
    assert resp.json()["created"] == 10_000
    assert (await stats(client, h, task))["by_status"]["pending"] == 10_000


async def test_list_filter_search_and_pages(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    rows: list[dict[str, Any]] = [{"username": f"user_{i:03d}", "first_name": f"Name{i}"} for i in range(25)]
    rows.append({"phone": "+79123456789", "first_name": "Phoebe"})
    await client.post(f"/api/v1/tasks/{task}/targets/bulk", json={"targets": rows}, headers=h)
    url = f"/api/v1/tasks/{task}/targets"
    ids: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(url, params=params, headers=h)).json()
        assert page["total"] == 26
        ids += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert ids == sorted(ids)
    assert len(set(ids)) == 26
    desc = (await client.get(url, params={"sort": "-id", "limit": 5}, headers=h)).json()
    assert [t["id"] for t in desc["items"]] == sorted(ids, reverse=True)[:5]
    phones = (await client.get(url, params={"kind": "phone"}, headers=h)).json()
    assert [t["first_name"] for t in phones["items"]] == ["Phoebe"]
    found = (await client.get(url, params={"q": "USER_01"}, headers=h)).json()
    assert found["total"] == 10
    by_name = (await client.get(url, params={"q": "phoe"}, headers=h)).json()
    assert by_name["total"] == 1
    bad_cursor = await client.get(url, params={"cursor": "garbage"}, headers=h)
    assert bad_cursor.status_code == 422
    # A cursor made for sort=-id is refused under sort=status.
    other_sort = await client.get(url, params={"cursor": desc["next_cursor"], "sort": "status"}, headers=h)
    assert other_sort.status_code == 422


async def test_edit_delete_and_bulk_actions(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    rows = [{"username": f"member_{i}"} for i in range(6)]
    out = (await client.post(f"/api/v1/tasks/{task}/targets/bulk", json={"targets": rows}, headers=h)).json()
    ids = [r["id"] for r in out["results"]]
    url = f"/api/v1/tasks/{task}/targets"

    edited = await client.put(
        f"{url}/{ids[0]}", json={"first_name": "Ann", "fields": {"city": "Tver"}}, headers=h
    )
    assert edited.status_code == 200
    assert (edited.json()["first_name"], edited.json()["fields"]) == ("Ann", {"city": "Tver"})
    assert (await client.put(f"{url}/{ids[0]}", json={"username": "other"}, headers=h)).status_code == 422

    assert (await client.delete(f"{url}/{ids[5]}", headers=h)).status_code == 204
    assert (await client.get(f"{url}/{ids[5]}", headers=h)).status_code == 404

    skipped = await client.post(f"{url}/bulk-action", json={"action": "skip", "ids": ids[:2]}, headers=h)
    assert skipped.json() == {"action": "skip", "affected": 2}
    s = await stats(client, h, task)
    assert (s["total"], s["by_status"]["pending"], s["by_status"]["skipped"]) == (5, 3, 2)

    reset = await client.post(
        f"{url}/bulk-action",
        json={"action": "reset_to_pending", "filter": {"status": ["skipped"]}},
        headers=h,
    )
    assert reset.json()["affected"] == 2
    s = await stats(client, h, task)
    assert (s["by_status"]["pending"], s["by_status"]["skipped"]) == (5, 0)

    both = await client.post(
        f"{url}/bulk-action", json={"action": "delete", "ids": [1], "filter": {}}, headers=h
    )
    assert both.status_code == 422
    deleted = await client.post(f"{url}/bulk-action", json={"action": "delete", "filter": {}}, headers=h)
    assert deleted.json()["affected"] == 5
    s = await stats(client, h, task)
    assert (s["total"], s["by_status"]["pending"], s["by_kind"]["username"]) == (0, 0, 0)


async def test_bulk_idempotency(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = {**new_user(), "Idempotency-Key": "import-7"}
    task = await new_task(client, h)
    body = {"targets": [{"username": "first_user"}, {"username": "second_user"}]}
    first = await client.post(f"/api/v1/tasks/{task}/targets/bulk", json=body, headers=h)
    again = await client.post(f"/api/v1/tasks/{task}/targets/bulk", json=body, headers=h)
    assert first.json() == again.json()
    assert again.json()["created"] == 2
    other = await client.post(
        f"/api/v1/tasks/{task}/targets/bulk", json={"targets": [{"username": "third_user"}]}, headers=h
    )
    assert other.status_code == 422
    assert (await stats(client, h, task))["total"] == 2
