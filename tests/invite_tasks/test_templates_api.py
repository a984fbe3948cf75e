"""Templates over the API, on SQLite and PostgreSQL: the unknown-placeholder rule at save and at start,
fallbacks accepted, and ``GET /tasks/{id}/fields`` for the insert chips."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.asyncio


async def sandbox_accounts(client: httpx.AsyncClient, h: dict[str, str]) -> list[str]:
    resp = await client.get("/api/v1/accounts", params={"platform": "sandbox"}, headers=h)
    assert resp.status_code == 200, resp.text
    data = resp.json()
    items = data["items"] if isinstance(data, dict) else data  # a page (issue 15) or the older list
    return [a["id"] for a in items]


async def message_task(client: httpx.AsyncClient, h: dict[str, str], **over: Any) -> httpx.Response:
    body: dict[str, Any] = {
        "name": "Newsletter",
        "platform": "sandbox",
        "action": "message",
        "message_template": "Hi {first_name|there}",
        "account_ids": (await sandbox_accounts(client, h))[:1],
        **over,
    }
    return await client.post("/api/v1/tasks", json=body, headers=h)


async def add_targets(
    client: httpx.AsyncClient, h: dict[str, str], tid: str, rows: list[dict[str, Any]]
) -> None:
    resp = await client.post(f"/api/v1/tasks/{tid}/targets/bulk", json={"targets": rows}, headers=h)
    assert resp.status_code in (200, 201), resp.text


def assert_unknown(
    resp: httpx.Response, status: int, loc: list[str], name: str, suggestion: str | None
) -> None:
    assert resp.status_code == status, resp.text
    problem = resp.json()
    assert problem["code"] == "UNKNOWN_PLACEHOLDER"
    assert [e["loc"] for e in problem["errors"]] == [loc]
    assert f"{{{name}}}" in problem["errors"][0]["msg"]
    [named] = problem["placeholders"]
    assert (named["name"], named["suggestion"]) == (name, suggestion)
    if suggestion is not None:
        assert f"did you mean {{{suggestion}}}?" in problem["detail"]


async def test_a_typo_of_a_standard_field_is_refused_at_save_with_a_suggestion(
    client: httpx.AsyncClient,
    new_user,  # type: ignore[no-untyped-def]
) -> None:
    h = new_user()
    resp = await message_task(client, h, message_template="Hi {frist_name}!")
    assert_unknown(resp, 422, ["body", "message_template"], "frist_name", "first_name")
    assert resp.json()["detail"] == "{frist_name} is not a field any target has; did you mean {first_name}?"
    assert (await client.get("/api/v1/tasks", headers=h)).json()["total"] == 0  # nothing was written
    # A fallback makes the same name safe: it renders the fallback when no target has it.
    assert (await message_task(client, h, message_template="Hi {frist_name|friend}!")).status_code == 201


async def test_a_custom_field_is_accepted_once_a_target_has_it(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    resp = await message_task(client, h, message_template="See you in {city}")  # no targets yet: accepted
    assert resp.status_code == 201, resp.text
    tid = resp.json()["id"]
    await add_targets(client, h, tid, [{"username": "alice_tpl", "fields": {"email": "a@example.com"}}])
    # Now the task has targets, and none has "city".
    refused = await client.put(f"/api/v1/tasks/{tid}", json={"message_template": "In {city}"}, headers=h)
    assert_unknown(refused, 422, ["body", "message_template"], "city", None)
    typo = await client.put(f"/api/v1/tasks/{tid}", json={"message_template": "Mail {emial}"}, headers=h)
    assert_unknown(typo, 422, ["body", "message_template"], "emial", "email")
    await add_targets(client, h, tid, [{"username": "bob_tpl", "fields": {"city": "Kazan"}}])
    ok = await client.put(
        f"/api/v1/tasks/{tid}", json={"message_template": "In {city}, {email}, {first_name}"}, headers=h
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["message_template"] == "In {city}, {email}, {first_name}"
    # Another field's change does not re-judge the saved template.
    assert (await client.put(f"/api/v1/tasks/{tid}", json={"name": "x"}, headers=h)).status_code == 200


async def test_start_rechecks_the_template_against_the_pending_targets(
    client: httpx.AsyncClient,
    new_user,  # type: ignore[no-untyped-def]
) -> None:
    h = new_user()
    resp = await message_task(client, h, message_template="Your order {order_no} is ready")
    assert resp.status_code == 201, resp.text
    tid = resp.json()["id"]
    await add_targets(client, h, tid, [{"username": "carol_tpl", "fields": {"order_nr": "17"}}])
    refused = await client.post(f"/api/v1/tasks/{tid}/start", headers=h)
    assert_unknown(refused, 409, ["task", "message_template"], "order_no", "order_nr")
    assert refused.json()["current_status"] == "draft"
    assert (await client.get(f"/api/v1/tasks/{tid}", headers=h)).json()["status"] == "draft"
    # One pending target with the field is enough (the others render it empty).
    await add_targets(client, h, tid, [{"username": "dave_tpl", "fields": {"order_no": "18"}}])
    started = await client.post(f"/api/v1/tasks/{tid}/start", headers=h)
    assert started.status_code == 200, started.text
    assert started.json()["status"] in ("running", "completed")
    await client.post(f"/api/v1/tasks/{tid}/cancel", headers=h)


async def test_fields_lists_standard_and_imported_fields_with_counts(
    client: httpx.AsyncClient,
    new_user,  # type: ignore[no-untyped-def]
) -> None:
    h = new_user()
    tid = (await message_task(client, h)).json()["id"]
    empty = await client.get(f"/api/v1/tasks/{tid}/fields", headers=h)
    assert empty.status_code == 200, empty.text
    assert empty.json() == {
        "fields": [
            {"name": "first_name", "targets": 0, "standard": True},
            {"name": "last_name", "targets": 0, "standard": True},
            {"name": "username", "targets": 0, "standard": True},
        ]
    }
    await add_targets(
        client,
        h,
        tid,
        [
            {
                "username": "erin_tpl",
                "first_name": "Erin",
                "fields": {"email": "e@example.com", "city": "Omsk"},
            },
            {"username": "fred_tpl", "first_name": "Fred", "fields": {"email": "f@example.com", "city": ""}},
            {"phone": "+79161234567", "fields": {"vip": True, "note": None}},
        ],
    )
    fields = (await client.get(f"/api/v1/tasks/{tid}/fields", headers=h)).json()["fields"]
    assert fields == [
        {"name": "first_name", "targets": 2, "standard": True},
        {"name": "last_name", "targets": 0, "standard": True},
        {"name": "username", "targets": 2, "standard": True},
        {"name": "city", "targets": 1, "standard": False},  # an empty value is not having it
        {"name": "email", "targets": 2, "standard": False},
        {"name": "vip", "targets": 1, "standard": False},
    ]
    assert (await client.get(f"/api/v1/tasks/{tid}/fields", headers=new_user())).status_code == 404
