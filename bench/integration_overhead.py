"""What the reference Integration Service adds to one platform call, as a ratio to a bare FastAPI round trip.

Both servers run the same way (uvicorn in a thread of this process, real sockets) and are called by the
Invite Service's own ``IntegrationClient``. Telegram is the fake Telethon client of the tests, so the figure
is the service's own work per call: token check, the operation key written before and after the call (its
database), the per-account lock, the mapping of Telethon's answer. Telegram's own latency comes on top.

Run: ``python -m bench.integration_overhead`` (or ``make bench``). SQLite file and a throwaway PostgreSQL.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from tests.integration_service.fake_telegram import World
from tests.integration_service.server import IntegrationServer, ThreadedServer

from bench.common import summary, temp_postgres
from invite_service.adapters.telegram import IntegrationClient, Invitee, RetryPolicy
from invite_service.models.enums import TargetKind

CALLS = 400
SECRET = "bench-integration-secret-" + "b" * 40
USER, ACCOUNT = "bench-user", "bench-acc"


def _world() -> World:
    world = World()
    world.user(1, "bench_self")
    world.chat(500, "bench_chat", channel=True)
    for i in range(CALLS * 2):
        world.user(100 + i, f"person_{i:05d}")
    return world


def _bare() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/accounts/{account_id}/messages")
    async def message(account_id: str) -> dict[str, object]:
        return {"message_id": 1, "date": "2026-12-02T12:00:00+00:00"}

    return app


async def _timed(n: int, call: Callable[[int], Awaitable[object]]) -> list[float]:
    out = []
    for i in range(n):
        start = time.perf_counter()
        await call(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


def _client(url: str) -> IntegrationClient:
    return IntegrationClient(url, SECRET, retry=RetryPolicy(max_attempts=1))


async def _measure_bare(url: str) -> list[float]:
    client = _client(url)
    try:
        who = Invitee.of(TargetKind.USERNAME, "person_00000")
        await _timed(20, lambda i: client.send_message(ACCOUNT, who, "hi", key=f"warm-{i:08d}"))
        return await _timed(CALLS, lambda i: client.send_message(ACCOUNT, who, "hi", key=f"bare-{i:08d}"))
    finally:
        await client.aclose()


async def _measure_service(url: str) -> dict[str, list[float]]:
    client = _client(url)

    def person(i: int) -> Invitee:
        return Invitee.of(TargetKind.USERNAME, f"person_{i:05d}")

    try:
        await _timed(20, lambda i: client.get_account(ACCOUNT))  # connects the account's client
        return {
            "send_message (new key)": await _timed(
                CALLS, lambda i: client.send_message(ACCOUNT, person(i), "hi", key=f"msg-{i:08d}")
            ),
            "send_message (replayed key)": await _timed(
                CALLS, lambda i: client.send_message(ACCOUNT, person(i), "hi", key=f"msg-{i:08d}")
            ),
            "invite (new key)": await _timed(
                CALLS,
                lambda i: client.invite(ACCOUNT, "bench_chat", [person(CALLS + i)], key=f"inv-{i:08d}"),
            ),
            "membership check": await _timed(
                CALLS, lambda i: client.is_member(ACCOUNT, "bench_chat", person(CALLS + i))
            ),
            "operation lookup": await _timed(CALLS, lambda i: client.operation(f"msg-{i:08d}")),
        }
    finally:
        await client.aclose()


def _run(db_url: str, workdir: Path, baseline: float) -> None:
    server = IntegrationServer(db_url, workdir, _world(), SECRET, log_level="WARNING")
    server.add_account(ACCOUNT, USER, 1)
    server.start()
    try:
        figures = asyncio.run(_measure_service(server.url))
    finally:
        server.stop()
    for name, samples in figures.items():
        s = summary(samples)
        print(
            f"  {name:<28} p50 {s['p50']:6.2f} ms  p95 {s['p95']:6.2f} ms"
            f"  x{s['p50'] / baseline:5.1f} of the bare round trip"
        )


def main() -> None:
    print(f"\n[integration_overhead] {CALLS} calls each, one at a time, through IntegrationClient")
    bare = ThreadedServer(_bare())
    bare.start()
    try:
        base = summary(asyncio.run(_measure_bare(bare.url)))
    finally:
        bare.stop()
    print(f"  bare FastAPI POST (baseline)  p50 {base['p50']:6.2f} ms  p95 {base['p95']:6.2f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        print(" SQLite:")
        _run(f"sqlite+aiosqlite:///{Path(tmp) / 'is.db'}", Path(tmp), base["p50"])
    with temp_postgres() as url, tempfile.TemporaryDirectory() as tmp:
        print(" PostgreSQL:")
        _run(url, Path(tmp), base["p50"])


if __name__ == "__main__":
    main()
