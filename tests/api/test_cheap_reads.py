"""Cheap reads (issue 17): the task list costs the same few statements at any page size and counts its
matches only when asked; read-only GETs open no transaction and send no COMMIT, while writes still commit.

Statements are counted on the app's own engine (``before_cursor_execute``), transactions where they
reach the database: asyncpg's BEGIN/COMMIT on PostgreSQL, the dialect's COMMIT on SQLite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import asyncpg.transaction
import pytest
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

from tests.api.conftest import api_client
from tests.execution.harness import Harness, make_harness, statements

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def h(db_url: str) -> AsyncIterator[Harness]:
    harness = await make_harness(db_url)
    yield harness
    await harness.rt.db.dispose()


@contextmanager
def transactions(h: Harness, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """BEGIN and COMMIT as the database sees them."""
    seen: list[str] = []
    if h.rt.db.backend == "postgresql":
        # asyncpg sends BEGIN/COMMIT/ROLLBACK from its Transaction object; SQLAlchemy's begin() is lazy.
        # pool_pre_ping's probe (BEGIN; ";"; ROLLBACK at checkout, db.py) is the pool's, not the request's
        # session: it is left out here.
        pinging: list[bool] = []
        original_ping = AsyncAdapt_asyncpg_connection._async_ping

        async def ping(self: Any) -> None:
            pinging.append(True)
            try:
                await original_ping(self)
            finally:
                pinging.pop()

        monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "_async_ping", ping)
        for name in ("start", "commit"):
            original = getattr(asyncpg.transaction.Transaction, name)

            async def counted(self: Any, _original: Any = original, _name: str = name) -> Any:
                if not pinging:
                    seen.append("BEGIN" if _name == "start" else "COMMIT")
                return await _original(self)

            monkeypatch.setattr(asyncpg.transaction.Transaction, name, counted)
    else:  # SQLite begins by itself before a write; a COMMIT goes through the dialect
        dialect = h.rt.db.engine.dialect
        original_commit = dialect.do_commit

        def do_commit(dbapi_connection: Any) -> None:
            seen.append("COMMIT")
            original_commit(dbapi_connection)

        monkeypatch.setattr(dialect, "do_commit", do_commit)
    try:
        yield seen
    finally:
        monkeypatch.undo()


async def tasks(h: Harness, n: int) -> None:
    account = (await h.accounts(1))[0]
    for i in range(n):
        await h.task(0, [account], name=f"list {i:03d}")


async def list_page(h: Harness, **params: Any) -> tuple[dict[str, Any], list[str]]:
    async with api_client(h) as api:
        with statements(h) as seen:
            resp = await api.get("/api/v1/tasks", params=params)
    assert resp.status_code == 200, resp.text
    return dict(resp.json()), seen


def counts(seen: list[str]) -> list[str]:
    return [s for s in seen if "count(" in s.lower()]


async def test_a_page_costs_the_same_statements_at_5_and_at_50_tasks_and_none_counts(h: Harness) -> None:
    await tasks(h, 5)
    small, small_sql = await list_page(h, limit=50)
    assert len(small["items"]) == 5 and small["total"] == 5  # the first page holds every match: free
    await tasks(h, 45)
    large, large_sql = await list_page(h, limit=50)
    assert len(large["items"]) == 50 and large["total"] == 50
    # Tasks with counters, their lanes, their audiences: no statement per task.
    assert len(small_sql) == len(large_sql) == 3, large_sql
    assert counts(small_sql) == counts(large_sql) == []
    # Every task still carries its counters and lanes.
    assert all(item["account_ids"] and item["counters"]["total"] == 0 for item in large["items"])


async def test_total_is_counted_only_when_asked(h: Harness) -> None:
    await tasks(h, 7)
    first, first_sql = await list_page(h, limit=3)
    assert first["total"] is None and first["next_cursor"] and counts(first_sql) == []
    second, second_sql = await list_page(h, limit=3, cursor=first["next_cursor"])
    assert second["total"] is None and counts(second_sql) == []
    assert len(second_sql) == len(first_sql)
    asked, asked_sql = await list_page(h, limit=3, cursor=first["next_cursor"], with_total="true")
    assert asked["total"] == 7 and len(counts(asked_sql)) == 1
    assert [t["id"] for t in asked["items"]] == [t["id"] for t in second["items"]]
    filtered, _ = await list_page(h, limit=3, q="list 00", with_total="true")
    assert filtered["total"] == 7
    none, none_sql = await list_page(h, limit=3, q="no such task")
    assert none == {"items": [], "next_cursor": None, "total": 0} and counts(none_sql) == []


async def test_read_only_gets_send_no_begin_or_commit_and_writes_still_commit(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await tasks(h, 2)
    account = (await h.accounts(1))[0]
    task_id = await h.task(3, [account], name="stats")
    async with api_client(h) as api:
        with transactions(h, monkeypatch) as seen:
            now = h.clock.now()
            window = {"from": (now - timedelta(hours=3)).isoformat(), "to": now.isoformat()}
            for path, params in (
                ("/api/v1/tasks", {}),
                (f"/api/v1/tasks/{task_id}", {}),
                (f"/api/v1/tasks/{task_id}/fields", {}),
                (f"/api/v1/tasks/{task_id}/status", {}),
                (f"/api/v1/tasks/{task_id}/stats", window),  # it may roll hours up: autocommitted
                (f"/api/v1/tasks/{task_id}/logs", {}),
                (f"/api/v1/tasks/{task_id}/report", {}),
            ):
                resp = await api.get(path, params=params)
                assert resp.status_code == 200, (path, resp.text)
            assert seen == [], seen
        with transactions(h, monkeypatch) as seen:
            body = {"name": "written", "platform": "sandbox", "action": "invite", "destination": "@some_chat"}
            created = await api.post("/api/v1/tasks", json={**body, "account_ids": [account]})
            assert created.status_code == 201, created.text
            assert "COMMIT" in seen
        listed = (await api.get("/api/v1/tasks", params={"q": "written"})).json()
        assert [t["name"] for t in listed["items"]] == ["written"]
