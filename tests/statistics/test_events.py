"""The SSE stream over a real socket: a snapshot, updates while the task runs, heartbeats, and the
final event after which the server closes the stream."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from invite_service.config import Settings
from invite_service.db import Database
from invite_service.main import create_app
from invite_service.models import InviteTask
from invite_service.statistics import events as events_module
from tests.statistics.helpers import RUN_DEADLINE_SECONDS, live_server, make_task, usernames

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def app(settings: Settings, database: Database) -> FastAPI:
    """An app of this module's own. The runtime of the app created last on a database runs the jobs of
    every session on it (``Runtime.use_jobs``), so the engine publishes progress on this app's bus."""
    return create_app(settings, database=database)


async def read_events(response: httpx.Response) -> AsyncIterator[tuple[str, dict[str, Any] | None]]:
    """(event, data) per SSE block; comment-only blocks come as ("comment", None)."""
    block: list[str] = []
    async for line in response.aiter_lines():
        if line:
            block.append(line)
            continue
        if not block:
            continue
        name, data, comment = "message", [], False
        for entry in block:
            if entry.startswith("event:"):
                name = entry[6:].strip()
            elif entry.startswith("data:"):
                data.append(entry[5:].strip())
            elif entry.startswith(":"):
                comment = True
        block = []
        if data:
            yield name, json.loads("\n".join(data))
        elif comment:
            yield "comment", None


async def test_updates_while_running_then_the_final_completed_event(app, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    async with (
        live_server(app) as base,
        httpx.AsyncClient(base_url=base, timeout=RUN_DEADLINE_SECONDS) as http,
    ):
        tid = await make_task(http, h, usernames(20, "sse"))
        seen: list[tuple[str, dict[str, Any]]] = []
        async with (
            asyncio.timeout(RUN_DEADLINE_SECONDS),
            http.stream("GET", f"/api/v1/tasks/{tid}/events", headers=h) as resp,
        ):
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            async for name, data in read_events(resp):
                if data is None:
                    continue
                seen.append((name, data))
                if name == "snapshot":
                    assert (await http.post(f"/api/v1/tasks/{tid}/start", headers=h)).status_code == 200
            # The loop ends because the server closed the stream after the end event.
        names = [name for name, _ in seen]
        assert names[0] == "snapshot" and seen[0][1]["status"] == "draft"
        assert seen[0][1]["counters"]["pending"] == 20
        assert names[-1] == "end"
        final = seen[-1][1]
        assert final["status"] == "completed" and final["progress"] == 100.0
        task = (await http.get(f"/api/v1/tasks/{tid}", headers=h)).json()
        assert final["counters"] == task["counters"]
        # Updates arrived while the task was running, with progress between the ends.
        running = [
            d for n, d in seen if n == "progress" and d["status"] == "running" and 0 < d["progress"] < 100
        ]
        assert running, names
        assert any(n == "status" and d["status"] == "running" for n, d in seen)
        done = [sum(d["counters"][k] for k in ("invited", "already_member", "failed")) for _, d in seen[1:-1]]
        assert max(done) == 20 and done[0] < 20


async def test_heartbeats_while_idle_and_end_on_cancel(app, new_user, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(events_module, "HEARTBEAT_SECONDS", 0.1)
    h = new_user()
    async with (
        live_server(app) as base,
        httpx.AsyncClient(base_url=base, timeout=RUN_DEADLINE_SECONDS) as http,
    ):
        tid = await make_task(http, h, usernames(3, "beat"))
        heartbeats, names = 0, []
        async with (
            asyncio.timeout(RUN_DEADLINE_SECONDS),
            http.stream("GET", f"/api/v1/tasks/{tid}/events", headers=h) as resp,
        ):
            async for name, data in read_events(resp):
                names.append(name)
                if name == "comment":
                    heartbeats += 1
                    if heartbeats == 3:
                        assert (await http.post(f"/api/v1/tasks/{tid}/cancel", headers=h)).status_code == 200
                elif name == "end":
                    assert data is not None and data["status"] == "cancelled"
        assert heartbeats >= 3 and names[-1] == "end"


async def test_a_change_the_bus_never_carried_still_ends_the_stream(  # type: ignore[no-untyped-def]
    app, new_user, monkeypatch, database: Database
) -> None:
    # The bus is best effort; at each heartbeat the stream re-reads the task from the database.
    monkeypatch.setattr(events_module, "HEARTBEAT_SECONDS", 0.1)
    h = new_user()
    async with (
        live_server(app) as base,
        httpx.AsyncClient(base_url=base, timeout=RUN_DEADLINE_SECONDS) as http,
    ):
        tid = await make_task(http, h, usernames(2, "lost"))
        last: tuple[str, dict[str, Any] | None] = ("", None)
        async with (
            asyncio.timeout(RUN_DEADLINE_SECONDS),
            http.stream("GET", f"/api/v1/tasks/{tid}/events", headers=h) as resp,
        ):
            async for name, data in read_events(resp):
                last = (name, data)
                if name == "snapshot":
                    async with database.session() as s:  # behind the engine's back: no event published
                        await s.execute(
                            update(InviteTask).where(InviteTask.id == uuid.UUID(tid)).values(status="failed")
                        )
        assert last[0] == "end" and last[1] is not None and last[1]["status"] == "failed"


async def test_a_finished_task_streams_its_snapshot_and_end_at_once(app, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        tid = await make_task(client, h, usernames(2, "done"))
        await client.post(f"/api/v1/tasks/{tid}/cancel", headers=h)
        async with asyncio.timeout(RUN_DEADLINE_SECONDS):
            body = (await client.get(f"/api/v1/tasks/{tid}/events", headers=h)).text
    assert body.startswith("retry: ")
    assert [line for line in body.splitlines() if line.startswith("event:")] == [
        "event: snapshot",
        "event: end",
    ]
