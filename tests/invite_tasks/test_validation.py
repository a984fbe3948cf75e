"""Bad input gets a 422 problem+json naming each field, and nothing is written."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.asyncio

GOOD: dict[str, Any] = {
    "name": "Valid",
    "platform": "telegram",
    "action": "invite_or_message",
    "destination": "@valid_chat",
    "message_template": "Hello {first_name}",
}


def with_(**over: Any) -> dict[str, Any]:
    return {**GOOD, **over}


CASES: list[tuple[str, dict[str, Any], list[Any]]] = [
    ("unknown field user_id", with_(user_id="someone-else"), ["body", "user_id"]),
    ("mass-assigned status", with_(status="running"), ["body", "status"]),
    ("mass-assigned counters", with_(counters={"invited": 5}), ["body", "counters"]),
    ("wrong type", with_(name=123), ["body", "name"]),
    ("over-long name", with_(name="x" * 201), ["body", "name"]),
    ("empty name", with_(name=""), ["body", "name"]),
    ("bad platform", with_(platform="icq"), ["body", "platform"]),
    ("bad action", with_(action="spam"), ["body", "action"]),
    ("bad destination", with_(destination="https://example.com"), ["body", "destination"]),
    (
        "negative cap",
        with_(settings={"caps": {"invites_per_hour": -1}}),
        ["body", "settings", "caps", "invites_per_hour"],
    ),
    (
        "above-platform cap",
        with_(settings={"caps": {"invites_per_day": 51}}),
        ["body", "settings", "caps", "invites_per_day"],
    ),
    (
        "above-platform message cap",
        with_(settings={"caps": {"messages_per_day": 41}}),
        ["body", "settings", "caps", "messages_per_day"],
    ),
    (
        "bad timezone",
        with_(settings={"send_window": {"timezone": "Mars/Olympus"}}),
        ["body", "settings", "send_window", "timezone"],
    ),
    (
        "bad weekday",
        with_(settings={"send_window": {"days": [7]}}),
        ["body", "settings", "send_window", "days", 0],
    ),
    ("unknown setting", with_(settings={"turbo": True}), ["body", "settings", "turbo"]),
    ("malformed template", with_(message_template="Hi {first_name"), ["body", "message_template"]),
    (
        "attribute access in template",
        with_(message_template="{first_name.__class__}"),
        ["body", "message_template"],
    ),
    ("format spec in template", with_(message_template="{first_name:>10}"), ["body", "message_template"]),
    ("invite without destination", with_(destination=None), ["body", "destination"]),
    ("message without template", with_(message_template=None), ["body", "message_template"]),
    ("naive scheduled_at", with_(scheduled_at="2030-01-01T10:00:00"), ["body", "scheduled_at"]),
    ("duplicate accounts", with_(account_ids=["a", "a"]), ["body", "account_ids"]),
    ("bad priority", with_(priority="urgent"), ["body", "priority"]),
]


@pytest.mark.parametrize(("label", "body", "loc"), CASES, ids=[c[0] for c in CASES])
async def test_bad_task_body_is_422_with_field_error(
    client: httpx.AsyncClient,
    new_user,
    label: str,
    body: dict[str, Any],
    loc: list[Any],  # type: ignore[no-untyped-def]
) -> None:
    headers = new_user()
    resp = await client.post("/api/v1/tasks", json=body, headers=headers)
    assert resp.status_code == 422, f"{label}: {resp.text}"
    assert resp.headers["content-type"].startswith("application/problem+json")
    problem = resp.json()
    assert problem["status"] == 422
    assert loc in [e["loc"] for e in problem["errors"]], problem["errors"]
    listed = (await client.get("/api/v1/tasks", headers=headers)).json()
    assert listed["total"] == 0, "a refused create must write nothing"


async def test_malformed_json_is_422(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    headers = {**new_user(), "Content-Type": "application/json"}
    resp = await client.post("/api/v1/tasks", content=b'{"name": "x",', headers=headers)
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["type"] == "json_invalid"


async def test_bad_update_writes_nothing(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    headers = new_user()
    task = (await client.post("/api/v1/tasks", json=GOOD, headers=headers)).json()
    for body in (
        {"name": "Changed", "settings": {"caps": {"invites_per_hour": 6}}},
        {"name": "Changed", "action": "message", "message_template": "{oops"},
        {"name": "Changed", "destination": None},
        {"version": 99},
    ):
        resp = await client.put(f"/api/v1/tasks/{task['id']}", json=body, headers=headers)
        assert resp.status_code == 422, body
    after = (await client.get(f"/api/v1/tasks/{task['id']}", headers=headers)).json()
    assert after["name"] == "Valid"
    assert after["version"] == task["version"]


async def test_bad_query_params(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    headers = new_user()
    for params in (
        {"sort": "user_id"},
        {"limit": 0},
        {"limit": 10_000},
        {"status": "sleeping"},
        {"created_from": "2026-01-01T00:00:00"},
        {"cursor": "%%%"},
    ):
        resp = await client.get("/api/v1/tasks", params=params, headers=headers)
        assert resp.status_code == 422, params
        assert resp.json()["errors"]


async def test_template_placeholders_any_target_field(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    resp = await client.post(
        "/api/v1/tasks",
        json=with_(
            message_template="Hi {first_name} {last_name} (@{username}), see you in {city}! {{literal}}"
        ),
        headers=new_user(),
    )
    assert resp.status_code == 201, resp.text
