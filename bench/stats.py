"""`GET .../stats` and `GET .../status` on a task with 1,000,000 targets, p50/p95 as a ratio to two floors
from the same run: `GET /health` on the same server, and the peer, a bare FastAPI endpoint (bench/api_list.py)
validating and serializing the very answer the service gave (`TaskStatusOut`, `TaskStatsOut`); and the CSV
report's rows per second. The engine is idle and the tables ANALYZEd while it measures.

The task is the shape of a big campaign 20 days in: 90 % of its targets handled (one execution log entry
each, spread over the 20 days), 10 % pending, 45 lanes (sandbox accounts at 1000 calls a day, so the 20
days are what the caps allow) whose accounts used most of today's cap. Rows go in
with INSERT … SELECT over generate_series (PostgreSQL) or a recursive CTE (SQLite). The ticker never
picks the task up (its next run is a year away), so nothing changes while it is measured.

Run: `python -m bench.stats` (or `make bench`). A throwaway PostgreSQL database and a fresh SQLite file;
a real `invite-service serve` process on each.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, text

from bench.api_list import IDLE_ENGINE, analyze, line, peer
from bench.common import server, summary, temp_postgres, timed_gets
from invite_service.auth.jwt import mint_token
from invite_service.config import Settings
from invite_service.db import Database
from invite_service.kit.clock import utcnow
from invite_service.migrations import runner
from invite_service.models import InviteTask, Lane, TaskCounters

TARGETS = 1_000_000
DONE = 900_000
LANES = 45  # at the sandbox's 1000 calls a day each, 900,000 calls take 20 days
LEDGER_PER_LANE = 900  # today's calls per account, of its 1000
DAYS = 20
REQUESTS = 200
COLD = 200  # paused twins of the task: their first status computes the estimate (no cached plan)
USER = "bench-user"

# g: 1..TARGETS. Every 10th handled target failed, every 10th + 1 was already a member.
_STATUS = (
    f"CASE WHEN g > {DONE} THEN 'pending' WHEN g % 10 = 0 THEN 'failed' "
    "WHEN g % 10 = 1 THEN 'already_member' ELSE 'invited' END"
)
_ERROR = (
    f"CASE WHEN g > {DONE} THEN NULL WHEN g % 10 = 0 THEN 'USER_PRIVACY_RESTRICTED' "
    "WHEN g % 10 = 1 THEN 'USER_ALREADY_PARTICIPANT' ELSE NULL END"
)
_OUTCOME = (
    "CASE WHEN g % 10 = 0 THEN 'target_rejected' WHEN g % 10 = 1 THEN 'already_member' ELSE 'success' END"
)
_SECONDS_APART = DAYS * 86_400 / DONE


def _series(backend: str, n: int) -> tuple[str, str]:
    """A CTE prefix and the FROM clause that yield g = 1..n."""
    if backend == "postgresql":
        return "", f"generate_series(1, {n}) AS s(g)"
    return f"WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) ", "s"


def _instant(backend: str, seconds: str) -> str:
    """The SQL for ``:start`` plus ``seconds``, in the column's storage format."""
    if backend == "postgresql":
        return f"(CAST(:start AS timestamptz) + ({seconds}) * interval '1 second')"
    # models.base.UTCDateTime stores naive UTC text on SQLite.
    return f"(strftime('%Y-%m-%d %H:%M:%S', :start_epoch + ({seconds}), 'unixepoch') || '.000000')"


async def seed(url: str) -> tuple[str, list[str]]:
    db = Database(url)
    backend = db.backend
    now = utcnow()
    start = now - timedelta(days=DAYS)
    tid = uuid.uuid4()
    accounts = [f"sb-{USER}-{i + 1}" for i in range(LANES)]
    params = {"tid": tid.hex if backend == "sqlite" else tid, "user": USER, "start": start}
    params["start_epoch"] = start.timestamp()
    async with db.session() as s:
        await s.execute(
            insert(InviteTask).values(
                id=tid,
                user_id=USER,
                name="Bench 1M",
                platform="sandbox",
                action="invite",
                destination="@bench_chat",
                status="running",
                priority="normal",
                settings={},
                version=1,
                started_at=start,
                next_run_at=now + timedelta(days=365),
                created_at=start,
                updated_at=now,
            )
        )
        await s.execute(
            insert(Lane),
            [
                {"task_id": tid, "account_id": a, "position": i, "status": "active"}
                for i, a in enumerate(accounts)
            ],
        )
        cte, source = _series(backend, TARGETS)
        processed = _instant(backend, f"g * {_SECONDS_APART}")
        account = f"'sb-{USER}-' || ((g % {LANES}) + 1)"
        await s.execute(
            text(
                f"{cte}INSERT INTO invite_targets (task_id, user_id, kind, key, username, first_name, "
                "extra, source, status, attempts, account_id, error_code, processed_at, created_at, "
                "updated_at) "
                "SELECT :tid, :user, 'username', 'bench_' || g, 'bench_' || g, 'Name ' || g, '{}', 'bench', "
                f"{_STATUS}, 1, CASE WHEN g > {DONE} THEN NULL ELSE {account} END, {_ERROR}, "
                f"CASE WHEN g > {DONE} THEN NULL ELSE {processed} END, {_instant(backend, '0')}, "
                f"{_instant(backend, '0')} FROM {source}"
            ),
            params,
        )
        cte, source = _series(backend, DONE)
        await s.execute(
            text(
                f"{cte}INSERT INTO invite_execution_logs (task_id, user_id, target_id, account_id, action, "
                "outcome, error_code, duration_ms, at) "
                f"SELECT :tid, :user, g, {account}, 'invite', {_OUTCOME}, {_ERROR}, 180, {processed} "
                f"FROM {source}"
            ),
            params,
        )
        cte, source = _series(backend, LEDGER_PER_LANE * LANES)
        recent = _instant(backend, f"{DAYS * 86_400} - 86000 + (g / {LANES}) * 95")
        await s.execute(
            text(
                f"{cte}INSERT INTO rate_limit_ledger (account_id, action, at, task_id) "
                f"SELECT {account}, 'invite', {recent}, :tid FROM {source}"
            ),
            params,
        )
        twins = [uuid.uuid4() for _ in range(COLD)]
        await s.execute(
            insert(InviteTask),
            [
                {
                    "id": twin,
                    "user_id": USER,
                    "name": f"Twin {i}",
                    "platform": "sandbox",
                    "action": "invite",
                    "destination": "@bench_chat",
                    "status": "paused",
                    "priority": "normal",
                    "settings": {},
                    "version": 1,
                    "started_at": start,
                    "created_at": start,
                    "updated_at": now,
                }
                for i, twin in enumerate(twins)
            ],
        )
        await s.execute(
            insert(Lane),
            [
                {"task_id": twin, "account_id": a, "position": i, "status": "active"}
                for twin in twins
                for i, a in enumerate(accounts)
            ],
        )
        await s.execute(
            insert(TaskCounters),
            [{"task_id": twin, "total": TARGETS - DONE, "pending": TARGETS - DONE} for twin in twins],
        )
        counts = dict(
            (
                await s.execute(
                    text("SELECT status, count(*) FROM invite_targets WHERE task_id = :tid GROUP BY status"),
                    params,
                )
            ).all()
        )
        await s.execute(
            insert(TaskCounters).values(task_id=tid, total=TARGETS, kind_username=TARGETS, **counts)
        )
    await analyze(db)
    await db.dispose()
    return str(tid), [str(t) for t in twins]


def csv_rows_per_second(http: httpx.Client, tid: str) -> tuple[int, float]:
    rows, started = 0, time.perf_counter()
    with http.stream("GET", f"/api/v1/tasks/{tid}/report", params={"format": "csv"}) as resp:
        resp.raise_for_status()
        for chunk in resp.iter_bytes():
            rows += chunk.count(b"\n")
    return rows - 1, time.perf_counter() - started


def measure(label: str, url: str, workdir: Path) -> None:
    runner.upgrade(url)
    started = time.perf_counter()
    tid, twins = asyncio.run(seed(url))
    seeded = time.perf_counter() - started
    token = mint_token(USER, Settings())
    with (
        server({"INVITE_DATABASE_URL": url, **IDLE_ENGINE}, workdir) as base,
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=300) as http,
    ):
        cases = {
            "GET /api/v1/tasks/{id}/status (polled)": f"/api/v1/tasks/{tid}/status",
            "GET /api/v1/tasks/{id}/stats": f"/api/v1/tasks/{tid}/stats",
            "GET /api/v1/tasks/{id}/logs": f"/api/v1/tasks/{tid}/logs",
        }
        # The first /stats of the task rolls up its closed hours (20 days of log, once): timed on its own.
        rollup_started = time.perf_counter()
        http.get(cases["GET /api/v1/tasks/{id}/stats"]).raise_for_status()
        rollup_ms = (time.perf_counter() - rollup_started) * 1000
        for _ in range(20):  # warm up connections and caches
            http.get("/health")
            for path in cases.values():
                http.get(path).raise_for_status()
        stats = http.get(cases["GET /api/v1/tasks/{id}/stats"]).json()
        status = http.get(cases["GET /api/v1/tasks/{id}/status (polled)"]).json()
        calls = sum(stats["by_outcome"].values())
        print(
            f"\n[{label}] {TARGETS:,} targets ({DONE:,} handled, {DAYS} days of log), {LANES} lanes;"
            f" seeded in {seeded:.0f} s; engine idle, after ANALYZE"
        )
        print(
            f"  stats default range: {stats['range']['start']} .. {stats['range']['end']} ({calls:,} calls);"
            f" the task's first /stats (rolls up its log once): {rollup_ms:.0f} ms"
        )
        routes = {
            "/status": ("invite_service.statistics.schemas:TaskStatusOut", status),
            "/stats": ("invite_service.statistics.schemas:TaskStatsOut", stats),
        }
        with peer(routes, workdir) as peer_base, httpx.Client(base_url=peer_base, timeout=30) as bare:
            for _ in range(20):
                bare.get("/status")
                bare.get("/stats")
            samples: dict[str, list[float]] = {
                "health": [],
                "peer /status": [],
                "peer /stats": [],
                **{name: [] for name in cases},
            }
            for _ in range(REQUESTS // 10):  # interleaved: a busy machine weighs on floors and cases alike
                samples["health"] += timed_gets(http, "/health", 10)
                samples["peer /status"] += timed_gets(bare, "/status", 10)
                samples["peer /stats"] += timed_gets(bare, "/stats", 10)
                for name, path in cases.items():
                    samples[name] += timed_gets(http, path, 10)
        health = summary(samples["health"])
        peers = {
            "GET /api/v1/tasks/{id}/status (polled)": summary(samples["peer /status"]),
            "GET /api/v1/tasks/{id}/stats": summary(samples["peer /stats"]),
        }
        print(line("GET /health (floor)", health, {"/health": health}))
        for name, p in peers.items():
            print(
                line(
                    f"peer of {name.split()[1].rsplit('/', 1)[1]}: bare FastAPI (floor)",
                    p,
                    {"/health": health},
                )
            )
        for name in cases:
            floors = {"/health": health, **({"peer": peers[name]} if name in peers else {})}
            print(line(name, summary(samples[name]), floors))
        cold = summary([timed_gets(http, f"/api/v1/tasks/{twin}/status", 1)[0] for twin in twins])
        floors = {"/health": health, "peer": peers["GET /api/v1/tasks/{id}/status (polled)"]}
        print(
            line("  status, estimate computed", cold, floors)
            + f"  (first call for each of {len(twins)} tasks)"
        )
        rows, seconds = csv_rows_per_second(http, tid)
        print(f"  CSV report: {rows:,} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        with temp_postgres() as pg:
            measure("PostgreSQL", pg, workdir)
        measure("SQLite", f"sqlite+aiosqlite:///{workdir / 'bench.db'}", workdir)


if __name__ == "__main__":
    main()
