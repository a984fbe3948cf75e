"""Webhook delivery throughput through the real path, as a ratio to a bare httpx POST loop.

The real path per delivery: the lease claim (an UPDATE … RETURNING), loading the delivery, its event and
endpoint, the SSRF check of the address, the Standard Webhooks signature, the POST, and the fenced
UPDATE recording the attempt (plus the endpoint's failure streak). The baseline POSTs the same body to
the same receiver with one httpx client, at the same concurrency, and does nothing else.

Receiver: a threaded ``http.server`` on a free local port (keep-alive), the tests' own. Two shapes:
``deliver`` jobs one after another vs a sequential POST loop, and the sweep (10 sends at once) vs 10
concurrent POSTs. SQLite file and a throwaway PostgreSQL.

The deliveries are seeded, then ANALYZEd, before each measurement. This bench touches neither Redis nor
RabbitMQ: its runtime has no Redis URL (the SQL limiter, in-process locks) and it calls ``deliver`` and
``sweep`` directly, not through a broker.

Run: ``python -m bench.webhook_throughput`` (or ``make bench``).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text
from tests.notifications.receiver import Receiver, receiver

from bench.common import temp_postgres
from invite_service.config import Settings
from invite_service.context.runtime import Runtime
from invite_service.db import Database
from invite_service.migrations import runner
from invite_service.models.notifications import NotificationEventType
from invite_service.notifications import delivery, service, signing
from invite_service.notifications.schemas import WebhookIn
from invite_service.runtime import build_runtime

N = 400
CONCURRENCY = delivery.SWEEP_CONCURRENCY
USER = "bench-user"
DATA = {"task_id": "00000000-0000-0000-0000-000000000001", "task_name": "bench", "status": "completed"}


async def _bare(rx: Receiver, n: int, concurrency: int) -> float:
    body = signing.body("task.completed", datetime.now(UTC), DATA).encode()
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(trust_env=False) as client:

        async def one() -> None:
            async with gate:
                (
                    await client.post(rx.url(), content=body, headers={"content-type": "application/json"})
                ).raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return n / (time.perf_counter() - start)


async def _emit(rt: Runtime, n: int) -> list[str]:
    async with rt.db.session() as s:  # this session publishes no jobs: the rows wait for a sender
        ids = []
        for _ in range(n):
            event = await service.emit(s, USER, NotificationEventType.TASK_COMPLETED, DATA, rt.clock.now())
            ids.append(event.id)
    async with rt.db.session() as s:
        page = await service.list_deliveries(
            s, USER, endpoint_id=None, channel_id=None, status=None, cursor=None, limit=n
        )
    async with rt.db.session() as s:  # the planner sees the seeded rows (PostgreSQL and SQLite alike)
        await s.execute(text("ANALYZE"))
    return [str(d.id) for d in page.items]


async def _rate(n: int, run: Callable[[], Awaitable[None]]) -> float:
    start = time.perf_counter()
    await run()
    return n / (time.perf_counter() - start)


async def _real(url: str, rx: Receiver) -> tuple[float, float]:
    runner.upgrade(url)
    settings = Settings(database_url=url, log_level="WARNING", notifications_allow_private_targets=True)
    rt = build_runtime(settings, Database(url, pool_size=CONCURRENCY + 2))
    try:
        async with rt.db.session() as s:
            await service.create_webhook(s, settings, USER, WebhookIn(url=rx.url()))
        ids = await _emit(rt, N)

        async def jobs() -> None:
            for delivery_id in ids:
                await delivery.deliver(rt, delivery_id)

        job_rate = await _rate(N, jobs)
        await _emit(rt, N)

        async def sweeps() -> None:
            while await delivery.sweep(rt):
                pass

        sweep_rate = await _rate(N, sweeps)
        assert len(rx.requests) >= 2 * N
        return job_rate, sweep_rate
    finally:
        await rt.aclose()
        await rt.db.dispose()


def main() -> None:
    print(
        f"\n[webhook_throughput] {N} deliveries each to a local receiver (deliveries/s; ratio to bare httpx)"
    )
    with receiver() as rx:
        bare_seq = asyncio.run(_bare(rx, N, 1))
        bare_par = asyncio.run(_bare(rx, N, CONCURRENCY))
        print(
            f"  bare httpx POST loop  sequential {bare_seq:7.0f}/s   {CONCURRENCY} at once {bare_par:7.0f}/s"
        )
        with tempfile.TemporaryDirectory() as tmp:
            sqlite = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            _print("SQLite", asyncio.run(_real(sqlite, rx)), bare_seq, bare_par)
        with temp_postgres() as pg:
            _print("PostgreSQL", asyncio.run(_real(pg, rx)), bare_seq, bare_par)


def _print(name: str, rates: tuple[float, float], bare_seq: float, bare_par: float) -> None:
    job, sweep = rates
    print(
        f"  {name:<11} deliver jobs {job:7.0f}/s (x{job / bare_seq:.2f})   "
        f"sweep {sweep:7.0f}/s (x{sweep / bare_par:.2f})"
    )


if __name__ == "__main__":
    main()
