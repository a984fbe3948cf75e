"""Helpers for statistics tests: sandbox tasks, waiting for a state, a live HTTP server, metrics samples,
and a fast bulk insert of targets for large reports."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, update

from invite_service.db import Database
from invite_service.models import InviteTarget, TaskCounters
from tests.conftest import free_port

RUN_DEADLINE_SECONDS = 60.0  # a guard against a hung run, not a timing assertion


async def sandbox_accounts(client: httpx.AsyncClient, h: dict[str, str]) -> list[str]:
    resp = await client.get("/api/v1/accounts", params={"platform": "sandbox"}, headers=h)
    assert resp.status_code == 200, resp.text
    return [a["id"] for a in resp.json()["items"]]


async def make_task(
    client: httpx.AsyncClient,
    h: dict[str, str],
    rows: Sequence[dict[str, Any]] = (),
    **over: Any,
) -> str:
    body = {
        "name": "stats",
        "platform": "sandbox",
        "action": "invite",
        "destination": "@demo_chat",
        "account_ids": await sandbox_accounts(client, h),
        **over,
    }
    resp = await client.post("/api/v1/tasks", json=body, headers=h)
    assert resp.status_code == 201, resp.text
    tid = str(resp.json()["id"])
    if rows:
        added = await client.post(
            f"/api/v1/tasks/{tid}/targets/bulk", json={"targets": list(rows)}, headers=h
        )
        assert added.status_code == 200, added.text
    return tid


def usernames(n: int, prefix: str = "stat") -> list[dict[str, Any]]:
    return [{"username": f"{prefix}_{i:05d}", "first_name": f"N{i}"} for i in range(n)]


async def wait_for(
    client: httpx.AsyncClient, h: dict[str, str], tid: str, statuses: set[str]
) -> dict[str, Any]:
    async with asyncio.timeout(RUN_DEADLINE_SECONDS):
        while True:
            task = (await client.get(f"/api/v1/tasks/{tid}", headers=h)).json()
            if task["status"] in statuses:
                return dict(task)
            await asyncio.sleep(0.05)


async def run_to_completion(client: httpx.AsyncClient, h: dict[str, str], tid: str) -> dict[str, Any]:
    started = await client.post(f"/api/v1/tasks/{tid}/start", headers=h)
    assert started.status_code == 200, started.text
    task = await wait_for(client, h, tid, {"completed", "paused", "failed"})
    assert task["status"] == "completed", task
    return task


async def all_logs(
    client: httpx.AsyncClient, h: dict[str, str], tid: str, **params: Any
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": params.get("limit", 7), **({"cursor": cursor} if cursor else {})}
        page = await client.get(f"/api/v1/tasks/{tid}/logs", params=query, headers=h)
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus exposition by (name, sorted labels)."""
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def action_counts(text: str, platform: str = "sandbox") -> dict[str, float]:
    """invite_actions_total by outcome for one platform (all actions)."""
    out: dict[str, float] = {}
    for (name, labels), value in samples(text).items():
        lab = dict(labels)
        if name == "invite_actions_total" and lab.get("platform") == platform:
            out[lab["outcome"]] = out.get(lab["outcome"], 0.0) + value
    return out


@asynccontextmanager
async def live_server(app: FastAPI) -> AsyncIterator[str]:
    """The app behind a real HTTP socket on this event loop (streams arrive as they are written)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        await serving


async def bulk_targets(
    db: Database, task_id: str, user_id: str, n: int, *, first: dict[str, Any] | None = None
) -> None:
    """``n`` pending username targets in a few statements, counters included (big report fixtures)."""
    tid = uuid.UUID(task_id)
    async with db.session() as s:
        for start in range(0, n, 5000):
            rows = [
                {
                    "task_id": tid,
                    "user_id": user_id,
                    "kind": "username",
                    "key": f"bulk_{i:07d}",
                    "username": f"bulk_{i:07d}",
                    "first_name": f"Name {i}",
                    "last_name": "Surname",
                    "source": "bench",
                    "extra": {},
                    **(first if i == 0 and first else {}),
                }
                for i in range(start, min(n, start + 5000))
            ]
            await s.execute(insert(InviteTarget), rows)
        await s.execute(
            update(TaskCounters)
            .where(TaskCounters.task_id == tid)
            .values(total=n, pending=n, kind_username=n)
        )
