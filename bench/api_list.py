"""`GET /api/v1/tasks` with 10,000 tasks, p50/p95, beside two floors measured in the same run: `GET /health`
on the same server, and the peer — a bare FastAPI endpoint (its own uvicorn process, no database, no
auth) that validates and serializes the very page the service answered (`TotalOnAskPage[TaskOut]`, 50
tasks). The gap to the peer is what the service adds to the pydantic work: auth, the session, the
statements, the rows.

The tables are ANALYZEd after seeding, and the engine is idle while it measures (the ticker and the
retention sweep are set an hour apart), so the figures are the reads' own.

Run: `python -m bench.api_list` (or `make bench`). Uses a throwaway PostgreSQL database and a
fresh SQLite file; a real `invite-service serve` process on each.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, text

from bench.common import free_port, server, summary, temp_postgres, timed_gets
from invite_service.auth.jwt import mint_token
from invite_service.config import Settings
from invite_service.db import Database
from invite_service.invite_tasks.schemas import TaskOut
from invite_service.kit.clock import utcnow
from invite_service.kit.pagination import TotalOnAskPage
from invite_service.migrations import runner
from invite_service.models import InviteTask, TaskCounters

TASKS = 10_000
REQUESTS = 300
USER = "bench-user"
TaskPage = TotalOnAskPage[TaskOut]
# The engine idle while a read bench measures: no tick, no retention sweep inside the run.
IDLE_ENGINE = {"INVITE_TICK_SECONDS": "3600", "INVITE_RETENTION_INTERVAL_SECONDS": "3600"}


async def analyze(db: Database) -> None:
    """Planner statistics after seeding, as a database in use has them."""
    async with db.engine.connect() as conn:
        if db.backend == "postgresql":
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
        else:
            await conn.execute(text("ANALYZE"))
            await conn.commit()


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
            await s.execute(insert(InviteTask), tasks)
            await s.execute(
                insert(TaskCounters), [{"task_id": t["id"], "total": 100, "pending": 100} for t in tasks]
            )
    await analyze(db)
    await db.dispose()


# -- the peer: a bare FastAPI endpoint doing the same pydantic work ---------------------------------------


def _model(name: str) -> Any:
    module, _, attr = name.partition(":")
    return getattr(importlib.import_module(module), attr)


def serve_peer(port: int, spec_file: str) -> None:
    """``spec_file``: {path: [model "module:attr", payload]}; each path validates its payload into the model
    and answers it through FastAPI's response_model, as a handler of the service does."""
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    def route(path: str, model: Any, payload: Any) -> None:
        async def endpoint() -> Any:
            return model.model_validate(payload)

        app.get(path, response_model=model)(endpoint)

    for path, (name, payload) in json.loads(Path(spec_file).read_text()).items():
        route(path, _model(name), payload)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, log_level="warning")


@contextmanager
def peer(routes: dict[str, tuple[str, Any]], workdir: Path) -> Iterator[str]:
    """The peer on a free port, in its own process (like the service's one uvicorn process)."""
    spec = workdir / f"peer-{uuid.uuid4().hex[:6]}.json"
    spec.write_text(json.dumps(routes))
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.api_list", "--peer", str(port), str(spec)],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # a busy machine imports slowly
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"peer server did not start (exit code {proc.poll()})")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def line(name: str, s: dict[str, float], floors: dict[str, dict[str, float]]) -> str:
    ratios = "  ".join(
        f"{label} p50 {s['p50'] / f['p50']:5.2f}x p95 {s['p95'] / f['p95']:5.2f}x"
        for label, f in floors.items()
    )
    return f"  {name:34s} p50 {s['p50']:7.2f} ms  p95 {s['p95']:7.2f} ms  {ratios}"


def measure(label: str, url: str, workdir: Path) -> None:
    runner.upgrade(url)
    asyncio.run(seed(url))
    token = mint_token(USER, Settings())
    with (
        server({"INVITE_DATABASE_URL": url, **IDLE_ENGINE}, workdir) as base,
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
    ):
        for _ in range(30):  # warm up connections and caches
            http.get("/health")
            http.get("/api/v1/tasks")
        page = http.get("/api/v1/tasks").json()
        with (
            peer({"/peer": ("bench.api_list:TaskPage", page)}, workdir) as peer_base,
            httpx.Client(base_url=peer_base, timeout=30) as bare,
        ):
            assert bare.get("/peer").json() == page, "the peer answers the very page the service did"
            for _ in range(30):
                bare.get("/peer")
            cases = {
                "list (default, -created_at)": ("/api/v1/tasks", {}),
                "list sort=name page 2": ("/api/v1/tasks", {"sort": "name"}),
                "list status=running": ("/api/v1/tasks", {"status": "running"}),
                "list q=campaign 09": ("/api/v1/tasks", {"q": "campaign 09"}),
                "list with_total=true": ("/api/v1/tasks", {"with_total": "true"}),
            }
            # Floors and cases interleaved, a round at a time, so a busy machine weighs on all alike.
            samples: dict[str, list[float]] = {"health": [], "peer": [], **{name: [] for name in cases}}
            resolved = {}
            for name, (path, params) in cases.items():
                if "page 2" in name:
                    first = http.get(path, params=params).json()
                    params = {**params, "cursor": first["next_cursor"]}
                resolved[name] = (path, params)
            for _ in range(REQUESTS // 10):
                samples["health"] += timed_gets(http, "/health", 10)
                samples["peer"] += timed_gets(bare, "/peer", 10)
                for name, (path, params) in resolved.items():
                    samples[name] += timed_gets(http, path, 10, params=params)
        health, bare_peer = summary(samples["health"]), summary(samples["peer"])
        floors = {"/health": health, "peer": bare_peer}
        print(f"\n[{label}] {TASKS} tasks, {REQUESTS} requests each, limit=50, engine idle, after ANALYZE")
        print(line("GET /health (floor)", health, floors))
        print(line("peer: bare FastAPI, same page (floor)", bare_peer, floors))
        for name in cases:
            print(line(name, summary(samples[name]), floors))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        with temp_postgres() as pg:
            measure("PostgreSQL", pg, workdir)
        measure("SQLite", f"sqlite+aiosqlite:///{workdir / 'bench.db'}", workdir)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--peer"]:
        serve_peer(int(sys.argv[2]), sys.argv[3])
    else:
        main()
