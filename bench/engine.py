"""The engine's figures (issue 4):

1. utilization and window breaches over a simulated day at Telegram's caps (10 accounts);
2. sends/s end to end through Celery, RabbitMQ, Redis and PostgreSQL with a zero-latency sandbox and caps
   lifted, as a ratio to a no-op Celery job's round trip measured in the same run;
3. pause latency p50/p99 while a task runs.

The Celery figures run on a RabbitMQ vhost and a Redis database of the bench's own (bench/common.py), never
the shared default vhost or the test suite's Redis database.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx

from bench.common import analyze, broker_vhost, redis_db, summary, temp_postgres
from invite_service.config import DEFAULT_PLATFORM_CAPS, Settings
from invite_service.sandbox.adapter import simulator_limits
from invite_service.workers.stepped import simulate


async def simulated_day(db_url: str) -> None:
    from sqlalchemy import func, select
    from tests.execution.harness import make_harness

    from invite_service.models import RateLimitLedger
    from invite_service.sandbox.integration_state import demo_config

    telegram = DEFAULT_PLATFORM_CAPS["telegram"]
    settings = Settings(database_url=db_url, log_level="WARNING", platform_caps={"sandbox": telegram})
    h = await make_harness(db_url, settings=settings, config=demo_config(3, simulator_limits(telegram)))
    accounts = await h.accounts(4)
    for n in range(5, 11):
        h.simulator.add_account(f"sb-{h.user}-{n}", h.user, f"extra-{n}", "sandbox")
    accounts = [a.id for a in await h.adapter.initialize_accounts(h.user)][:10]
    task_id = await h.task(800, accounts)
    start = h.clock.now()
    await h.control(task_id, "start")
    wall = time.perf_counter()

    async def never() -> bool:
        return False

    await simulate(
        h.rt,
        h.clock,
        h.queue,
        until=never,
        horizon=timedelta(days=1) - timedelta(seconds=1),
        recover_every=timedelta(hours=6),
    )
    wall = time.perf_counter() - wall
    async with h.rt.db.session() as s:
        used = await s.scalar(
            select(func.count())
            .select_from(RateLimitLedger)
            .where(RateLimitLedger.account_id.in_(accounts), RateLimitLedger.at < start + timedelta(days=1))
        )
    allowed = 10 * (telegram.invites_per_day or 0)
    breaches = h.simulator.window_breaches(simulator_limits(telegram))
    print(
        f"\n[engine] simulated day, 10 accounts at 5/h and 50/day: {used} of {allowed} allowed actions "
        f"({100 * (used or 0) / allowed:.2f} % utilization), {len(breaches)} window breaches, "
        f"simulated in {wall:.1f} s wall time"
    )
    await h.rt.db.dispose()


async def _celery_figures(db_url: str, workdir: Path, redis_url: str, amqp_url: str) -> None:
    import redis.asyncio as aioredis
    from tests.production.stack import running_stack, user_headers

    from invite_service.context.jobs import Job
    from invite_service.main import create_app
    from invite_service.workers.celery_app import make_celery_app

    with running_stack(db_url, workdir, broker_url=amqp_url, redis_url=redis_url) as stack:
        stack.start_worker(concurrency=2)
        settings = stack.settings()
        # Baseline: the queue's own round trip — publish no-op jobs, count them executed.
        app = make_celery_app(settings)
        r = aioredis.from_url(redis_url)
        key = f"bench:ping:{uuid.uuid4().hex}"
        from invite_service.workers.celery_app import CeleryJobQueue

        queue = CeleryJobQueue(app)
        for _ in range(20):  # warm up: the pool is up and connected
            queue.send(Job("system.ping", {"key": key + ":warm"}))
        while int(await r.get(key + ":warm") or 0) < 20:
            await asyncio.sleep(0.05)
        n_ping = 500
        t0 = time.perf_counter()
        for _ in range(n_ping):
            queue.send(Job("system.ping", {"key": key}))
        while int(await r.get(key) or 0) < n_ping:
            await asyncio.sleep(0.01)
        ping_rate = n_ping / (time.perf_counter() - t0)
        await r.aclose()

        api_app = create_app(settings)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api_app), base_url="http://b") as c:
            h = user_headers(settings, f"bench-{uuid.uuid4().hex[:6]}")
            accounts = (await c.get("/api/v1/accounts", params={"platform": "telegram"}, headers=h)).json()[
                "items"
            ]
            n = 1000
            body = {
                "name": "bench",
                "platform": "telegram",
                "action": "invite",
                "destination": "@bench",
                "account_ids": [a["id"] for a in accounts],
            }
            tid = (await c.post("/api/v1/tasks", json=body, headers=h)).json()["id"]
            rows = [{"username": f"bench_{i:05d}"} for i in range(n)]
            await c.post(f"/api/v1/tasks/{tid}/targets/bulk", json={"targets": rows}, headers=h)
            await analyze(db_url)  # the planner sees the seeded targets, not an empty table
            t0 = time.perf_counter()
            await c.post(f"/api/v1/tasks/{tid}/start", headers=h)
            while (await c.get(f"/api/v1/tasks/{tid}", headers=h)).json()["status"] != "completed":
                await asyncio.sleep(0.1)
            send_rate = n / (time.perf_counter() - t0)

            # Pause latency: pause/resume a running task repeatedly.
            tid2 = (await c.post("/api/v1/tasks", json={**body, "name": "pauser"}, headers=h)).json()["id"]
            rows = [{"username": f"pause_{i:05d}"} for i in range(5000)]
            for chunk in range(0, len(rows), 5000):
                await c.post(
                    f"/api/v1/tasks/{tid2}/targets/bulk",
                    json={"targets": rows[chunk : chunk + 5000]},
                    headers=h,
                )
            await c.post(f"/api/v1/tasks/{tid2}/start", headers=h)
            samples: list[float] = []
            for _ in range(40):
                await asyncio.sleep(0.15)
                t = time.perf_counter()
                await c.post(f"/api/v1/tasks/{tid2}/pause", headers=h)
                samples.append((time.perf_counter() - t) * 1000)
                await c.post(f"/api/v1/tasks/{tid2}/resume", headers=h)
            await c.post(f"/api/v1/tasks/{tid2}/cancel", headers=h)
        await api_app.state.runtime.aclose()
        await api_app.state.db.dispose()
    p = summary(samples)
    print(f"[engine] no-op Celery job round trip: {ping_rate:.0f} jobs/s (baseline)")
    print(
        f"[engine] sends end to end (Celery x2, RabbitMQ, Redis, PostgreSQL, HTTP sandbox, caps lifted): "
        f"{send_rate:.0f} sends/s = {send_rate / ping_rate:.2f}x the no-op job rate"
    )
    print(f"[engine] pause latency while running: p50 {p['p50']:.1f} ms, p99 {p['p99']:.1f} ms")


def main() -> None:
    with temp_postgres() as pg:
        from invite_service.migrations import runner

        runner.upgrade(pg)
        asyncio.run(simulated_day(pg))
        with tempfile.TemporaryDirectory() as tmp, redis_db() as redis_url, broker_vhost() as amqp_url:
            asyncio.run(_celery_figures(pg, Path(tmp), redis_url, amqp_url))


if __name__ == "__main__":
    main()
