"""Helpers shared by the benchmarks: percentiles, a server process, a throwaway PostgreSQL database, a Redis
database and a RabbitMQ vhost of the run's own, ``ANALYZE`` after seeding, the one-round-trip floor of
PostgreSQL (``SELECT 1`` on a raw asyncpg connection), and variants measured interleaved."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx

PG_ADMIN = os.environ.get("INVITE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_BASE = os.environ.get("INVITE_BENCH_REDIS_URL", "redis://127.0.0.1:6379")
# Redis databases a run may claim: not 0 (a developer's default), 14 (older copies of the limiter bench) or
# 15 (the test suite's). A claimed database is empty when claimed and flushed when given back.
REDIS_DBS = range(1, 14)
CLAIM_KEY = "invite-bench:claimed-by"
AMQP_BASE = os.environ.get("INVITE_BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50": percentile(samples, 50),
        "p95": percentile(samples, 95),
        "p99": percentile(samples, 99),
        "mean": statistics.fmean(samples),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def temp_postgres() -> Iterator[str]:
    name = f"invite_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy ``postgresql+asyncpg://`` URL as a DSN asyncpg takes."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def analyze(url: str) -> None:
    """``ANALYZE`` the whole database after seeding, so the planner sees the seeded sizes (autovacuum
    would get there on its own, minutes later, in the middle of a measurement)."""
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def select1_floor(url: str, n: int = 1000, warmup: int = 100) -> list[float]:
    """Milliseconds of ``SELECT 1`` on one raw asyncpg connection: a single round trip, the floor of any
    statement (no pool checkout, no pre-ping, no BEGIN/COMMIT)."""
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for _ in range(warmup):
            await conn.fetchval("SELECT 1")
        out = []
        for _ in range(n):
            start = time.perf_counter()
            await conn.fetchval("SELECT 1")
            out.append((time.perf_counter() - start) * 1000)
        return out
    finally:
        await conn.close()


async def interleaved(
    variants: Mapping[str, Callable[[int], Awaitable[object]]], n: int, rounds: int = 10
) -> dict[str, tuple[list[float], float]]:
    """Each variant called ``n`` times (with i = 0 … n-1), in ``rounds`` turns of n/rounds calls each in
    rotation, so a busy machine's slow spells fall on every variant alike instead of on whichever ran then.
    Returns per variant the samples (ms) and the calls per second of the time spent in it."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    spent = dict.fromkeys(variants, 0.0)
    per_round = max(1, n // rounds)
    for start in range(0, n, per_round):
        for name, fn in variants.items():
            t0 = time.perf_counter()
            for i in range(start, min(n, start + per_round)):
                t = time.perf_counter()
                await fn(i)
                samples[name].append((time.perf_counter() - t) * 1000)
            spent[name] += time.perf_counter() - t0
    return {name: (samples[name], len(samples[name]) / spent[name]) for name in variants}


def _claim_redis_db(run: str) -> int:
    import redis

    for db in REDIS_DBS:
        client = redis.Redis.from_url(f"{REDIS_BASE}/{db}")
        try:
            # Empty and unclaimed, then claimed atomically (SET NX): two runs never share a database.
            if client.dbsize() == 0 and client.set(CLAIM_KEY, run, nx=True, ex=24 * 3600):
                return db
        finally:
            client.close()
    raise RuntimeError(f"no free Redis database among {REDIS_DBS.start}-{REDIS_DBS.stop - 1} at {REDIS_BASE}")


@contextmanager
def redis_db() -> Iterator[str]:
    """The URL of a Redis database of this run's own (see REDIS_DBS), flushed and released afterwards."""
    import redis

    run = uuid.uuid4().hex
    db = _claim_redis_db(run)
    try:
        yield f"{REDIS_BASE}/{db}"
    finally:
        client = redis.Redis.from_url(f"{REDIS_BASE}/{db}")
        try:
            if client.get(CLAIM_KEY) == run.encode():  # still ours: everything in it is this run's
                client.flushdb()
        finally:
            client.close()


@contextmanager
def broker_vhost() -> Iterator[str]:
    """An AMQP URL on a RabbitMQ vhost of this run's own, deleted afterwards. No fallback to the shared
    vhost: a bench never sees, nor deletes, another run's queues."""
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        raise RuntimeError("rabbitmqctl is not installed: the benches make a RabbitMQ vhost of their own")
    parts = urlsplit(AMQP_BASE)
    vhost = f"invite-bench-{uuid.uuid4().hex[:10]}"

    def ctl_run(*args: str) -> None:
        subprocess.run([ctl, *args], capture_output=True, text=True, timeout=120, check=True)

    try:
        ctl_run("add_vhost", vhost)
        ctl_run("set_permissions", "-p", vhost, parts.username or "guest", ".*", ".*", ".*")
        yield f"{parts.scheme}://{parts.netloc}/{vhost}"
    finally:
        subprocess.run([ctl, "delete_vhost", vhost], capture_output=True, timeout=120, check=False)


@contextmanager
def server(env: dict[str, str], workdir: Path, *, with_pid: list[int] | None = None) -> Iterator[str]:
    """A real ``invite-service serve`` on a free port; ``with_pid`` receives its pid (memory figures)."""
    port = free_port()
    bin_path = Path(sys.executable).parent / "invite-service"
    log = (workdir / f"server-{port}.log").open("wb")
    proc = subprocess.Popen(
        [str(bin_path), "serve", "--migrate", "--port", str(port)],
        env={**os.environ, "INVITE_LOG_LEVEL": "WARNING", **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    if with_pid is not None:
        with_pid.append(proc.pid)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("benchmark server did not start")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def timed_gets(client: httpx.Client, path: str, n: int, **kwargs: object) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        resp = client.get(path, **kwargs)  # type: ignore[arg-type]
        out.append((time.perf_counter() - start) * 1000)
        resp.raise_for_status()
    return out
