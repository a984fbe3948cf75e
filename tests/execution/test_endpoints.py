"""The control API over the app: start checks, harmless repeats, 409s naming the state, bulk controls,
and a small task run to completion by the embedded runner in real time."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.asyncio


async def make_task(client: httpx.AsyncClient, h: dict[str, str], targets: int = 0, **over: Any) -> str:
    accounts = (await client.get("/api/v1/accounts", params={"platform": "sandbox"}, headers=h)).json()[
        "items"
    ]
    body = {
        "name": "run me",
        "platform": "sandbox",
        "action": "invite",
        "destination": "@demo_chat",
        "account_ids": [a["id"] for a in accounts],
        **over,
    }
    resp = await client.post("/api/v1/tasks", json=body, headers=h)
    assert resp.status_code == 201, resp.text
    tid = str(resp.json()["id"])
    if targets:
        rows = [{"username": f"runner_{i:04d}", "first_name": f"R{i}"} for i in range(targets)]
        await client.post(f"/api/v1/tasks/{tid}/targets/bulk", json={"targets": rows}, headers=h)
    return tid


async def test_start_explains_why_a_task_cannot_run(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    tid = await make_task(client, h, account_ids=[])
    resp = await client.post(f"/api/v1/tasks/{tid}/start", headers=h)
    assert resp.status_code == 422
    locs = {tuple(e["loc"]) for e in resp.json()["errors"]}
    assert locs == {("task", "account_ids"), ("task", "targets")}
    assert (await client.get(f"/api/v1/tasks/{tid}", headers=h)).json()["status"] == "draft"


async def test_transitions_repeat_harmlessly_and_refuse_with_409(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    tid = await make_task(client, h, targets=3000)
    assert (await client.post(f"/api/v1/tasks/{tid}/start", headers=h)).json()["status"] == "running"
    paused = await client.post(f"/api/v1/tasks/{tid}/pause", headers=h)
    assert paused.json()["status"] == "paused"
    again = await client.post(f"/api/v1/tasks/{tid}/pause", headers=h)
    assert again.status_code == 200 and again.json()["status"] == "paused"
    assert (await client.post(f"/api/v1/tasks/{tid}/resume", headers=h)).json()["status"] == "running"
    cancelled = await client.post(f"/api/v1/tasks/{tid}/cancel", headers=h)
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["counters"]["pending"] == 0
    refused = await client.post(f"/api/v1/tasks/{tid}/resume", headers=h)
    assert refused.status_code == 409
    assert refused.json()["current_status"] == "cancelled"
    other = new_user()
    assert (await client.post(f"/api/v1/tasks/{tid}/pause", headers=other)).status_code == 404


async def test_bulk_pause_resume_cancel(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    running = await make_task(client, h, targets=3000)
    draft = await make_task(client, h)
    await client.post(f"/api/v1/tasks/{running}/start", headers=h)
    out = (
        await client.post(
            "/api/v1/tasks/bulk", json={"action": "PAUSE", "task_ids": [running, draft]}, headers=h
        )
    ).json()
    assert [r["status"] for r in out["results"]] == [200, 409]
    out = (
        await client.post(
            "/api/v1/tasks/bulk", json={"action": "CANCEL", "task_ids": [running, draft]}, headers=h
        )
    ).json()
    assert out["succeeded"] == 2
    statuses = {t["id"]: t["status"] for t in (await client.get("/api/v1/tasks", headers=h)).json()["items"]}
    assert statuses == {running: "cancelled", draft: "cancelled"}


async def test_embedded_runner_completes_a_small_task(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    tid = await make_task(client, h, targets=12)
    assert (await client.post(f"/api/v1/tasks/{tid}/start", headers=h)).status_code == 200
    task: dict[str, Any] = {}
    for _ in range(300):
        task = (await client.get(f"/api/v1/tasks/{tid}", headers=h)).json()
        if task["status"] == "completed":
            break
        await asyncio.sleep(0.1)
    assert task["status"] == "completed", task
    assert task["progress"] == 100.0
    lanes = (await client.get(f"/api/v1/tasks/{tid}/lanes", headers=h)).json()
    # The old path answers the same while clients move over.
    assert (await client.get(f"/api/v1/tasks/{tid}/accounts", headers=h)).json() == lanes
    assert sum(lane["sent"] for lane in lanes) >= 1
    accounts = (await client.get("/api/v1/accounts", params={"platform": "sandbox"}, headers=h)).json()[
        "items"
    ]
    used = sum(
        w["used"]
        for a in accounts
        for w in a["usage"]
        if w["action"] == "invite" and w["window_seconds"] == 3600
    )
    attempts = sum(lane["sent"] + lane["failed"] for lane in lanes)
    assert used == attempts, "accounts usage agrees with the ledger of what was sent"
