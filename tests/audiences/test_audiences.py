"""Audiences API on SQLite and PostgreSQL: create, list, read, rename, delete; a duplicate name is a
409, another user's audience a 404, and an audience a live task uses cannot be deleted."""

from __future__ import annotations

import uuid

import httpx
import pytest

from invite_service.db import Database
from invite_service.models import TaskAudience
from tests.audiences.helpers import URL, add_contacts, new_audience

pytestmark = pytest.mark.asyncio


async def test_crud_and_duplicate_name(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    created = await new_audience(client, h, "Customers")
    assert (created["platform"], created["name"], created["description"], created["contacts"]) == (
        "telegram",
        "Customers",
        None,
        0,
    )
    dup = await client.post(URL, json={"platform": "sandbox", "name": "Customers"}, headers=h)
    assert dup.status_code == 409
    assert dup.json()["code"] == "audience_name_taken"
    other = await new_audience(client, h, "Leads", platform="sandbox")

    listed = (await client.get(URL, headers=h)).json()
    assert [a["name"] for a in listed["items"]] == ["Leads", "Customers"]  # newest first
    assert listed["total"] == 2
    only = (await client.get(URL, params={"platform": "sandbox"}, headers=h)).json()
    assert [a["id"] for a in only["items"]] == [other["id"]]
    first = (await client.get(URL, params={"limit": 1}, headers=h)).json()
    second = (await client.get(URL, params={"limit": 1, "cursor": first["next_cursor"]}, headers=h)).json()
    assert [a["name"] for a in first["items"] + second["items"]] == ["Leads", "Customers"]
    assert second["next_cursor"] is None

    patched = await client.patch(
        f"{URL}/{created['id']}", json={"name": "Clients", "description": "paying"}, headers=h
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["description"]) == ("Clients", "paying")
    clash = await client.patch(f"{URL}/{created['id']}", json={"name": "Leads"}, headers=h)
    assert (clash.status_code, clash.json()["code"]) == (409, "audience_name_taken")
    got = (await client.get(f"{URL}/{created['id']}", headers=h)).json()
    assert got["name"] == "Clients"

    assert (await client.delete(f"{URL}/{created['id']}", headers=h)).status_code == 204
    assert (await client.get(f"{URL}/{created['id']}", headers=h)).status_code == 404
    # The name is free again.
    assert (
        await client.post(URL, json={"platform": "telegram", "name": "Clients"}, headers=h)
    ).status_code == 201


async def test_create_is_idempotent(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = {**new_user(), "Idempotency-Key": "aud-1"}
    body = {"platform": "telegram", "name": "Once"}
    first = await client.post(URL, json=body, headers=h)
    again = await client.post(URL, json=body, headers=h)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["id"] == first.json()["id"]


async def test_invalid_input(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    bad = await client.post(URL, json={"platform": "nowhere", "name": "X"}, headers=h)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["body", "platform"]
    empty = await client.post(URL, json={"platform": "telegram", "name": "  "}, headers=h)
    assert empty.status_code == 422


async def test_another_users_audience_is_not_found(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    owner, stranger = new_user(), new_user()
    audience = await new_audience(client, owner)
    await add_contacts(client, owner, audience["id"], {"username": "owned_person"})
    path = f"{URL}/{audience['id']}"
    assert (await client.get(path, headers=stranger)).status_code == 404
    assert (await client.patch(path, json={"name": "Mine"}, headers=stranger)).status_code == 404
    assert (await client.delete(path, headers=stranger)).status_code == 404
    assert (await client.get(f"{path}/contacts", headers=stranger)).status_code == 404
    assert (await client.get(f"{path}/export.csv", headers=stranger)).status_code == 404
    add = await client.post(
        f"{path}/contacts", json={"contacts": [{"username": "sneaky_one"}]}, headers=stranger
    )
    assert add.status_code == 404
    remove = await client.post(f"{path}/contacts/remove", json={"contact_ids": [1]}, headers=stranger)
    assert remove.status_code == 404
    assert (await client.get(URL, headers=stranger)).json()["items"] == []
    assert (await client.get(f"{URL}/{uuid.uuid4()}", headers=owner)).json()["code"] == "audience_not_found"
    # The owner's audience is untouched.
    assert (await client.get(path, headers=owner)).json()["contacts"] == 1


async def test_delete_refused_while_a_live_task_uses_it(
    client: httpx.AsyncClient, new_user, database: Database
) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    audience = await new_audience(client, h)
    task = await client.post(
        "/api/v1/tasks",
        json={"name": "Spring invites", "action": "message", "message_template": "Hi"},
        headers=h,
    )
    assert task.status_code == 201, task.text
    task_id = uuid.UUID(task.json()["id"])
    async with database.session() as s:
        s.add(TaskAudience(task_id=task_id, audience_id=uuid.UUID(audience["id"]), mode="exclude"))

    refused = await client.delete(f"{URL}/{audience['id']}", headers=h)
    assert refused.status_code == 409
    assert refused.json()["code"] == "audience_in_use"
    assert "Spring invites" in refused.json()["detail"]
    assert (await client.get(f"{URL}/{audience['id']}", headers=h)).status_code == 200

    # Once the task is finished the audience can go (the finished task forgets it).
    cancel = await client.post(f"/api/v1/tasks/{task_id}/cancel", headers=h)
    assert cancel.status_code == 200, cancel.text
    assert (await client.delete(f"{URL}/{audience['id']}", headers=h)).status_code == 204
