"""`GET /api/v1/tasks` with 10,000 tasks, p50/p95, as a ratio to `GET /health` on the same server.

Run: `python -m bench.api_list` (or `make bench`). Uses a throwaway PostgreSQL database and a
fresh SQLite file; a real `invite-service serve` process on each.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

import httpx

from bench.common import server, summary, temp_postgres, timed_gets
from invite_service.auth.jwt import mint_token
from invite_service.config import Settings
from invite_service.db import Database
from invite_service.kit.clock import utcnow
from invite_service.migrations import runner
from invite_service.models import InviteTask, TaskCounters

TASKS = 10_000
REQUESTS = 300
USER = "bench-user"


async def seed(url: str) -> None:
    db = Database(url)
    now = utcnow()
    statuses = ["draft", "running", "paused", "completed"]
    async with db.session() as s:
        for start in range(0, TASKS, 1000):
            tasks = [
                {
                    "id": uuid.uuid4(),
                    "user_id": USER,
                    "name": f"Campaign {i:05d}",
                    "platform": "telegram",
                    "action": "invite",
                    "destination": "@bench_chat",
                    "status": statuses[i % 4],
                    "priority": ["low", "normal", "high"][i % 3],
                    "settings": {},
                    "version": 1,
                    "created_at": now - timedelta(seconds=TASKS - i),
                    "updated_at": now,
                }
                for i in range(start, start + 1000)
            ]
            from sqlalchemy import insert

            await s.execute(insert(InviteTask), tasks)
            await s.execute(
                insert(TaskCounters), [{"task_id": t["id"], "total": 100, "pending": 100} for t in tasks]
            )
    await db.dispose()


def measure(label: str, url: str, workdir: Path) -> None:
    runner.upgrade(url)
    asyncio.run(seed(url))
    token = mint_token(USER, Settings())
    with (
        server({"INVITE_DATABASE_URL": url}, workdir) as base,
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
    ):
        for _ in range(30):  # warm up connections and caches
            http.get("/health")
            http.get("/api/v1/tasks")
        health = summary(timed_gets(http, "/health", REQUESTS))
        cases = {
            "list (default, -created_at)": ("/api/v1/tasks", {}),
            "list sort=name page 2": ("/api/v1/tasks", {"sort": "name"}),
            "list status=running": ("/api/v1/tasks", {"status": "running"}),
            "list q=campaign 09": ("/api/v1/tasks", {"q": "campaign 09"}),
        }
        print(f"\n[{label}] {TASKS} tasks, {REQUESTS} requests each, limit=50")
        print(f"  {'GET /health':32s} p50 {health['p50']:7.2f} ms  p95 {health['p95']:7.2f} ms  (baseline)")
        for name, (path, params) in cases.items():
            if "page 2" in name:
                first = http.get(path, params=params).json()
                params = {**params, "cursor": first["next_cursor"]}
            s = summary(timed_gets(http, path, REQUESTS, params=params))
            print(
                f"  {name:32s} p50 {s['p50']:7.2f} ms  p95 {s['p95']:7.2f} ms"
                f"  ratio p50 {s['p50'] / health['p50']:5.2f}x  p95 {s['p95'] / health['p95']:5.2f}x"
            )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        with temp_postgres() as pg:
            measure("PostgreSQL", pg, workdir)
        measure("SQLite", f"sqlite+aiosqlite:///{workdir / 'bench.db'}", workdir)


if __name__ == "__main__":
    main()
