"""Helpers shared by the benchmarks: percentiles, a server process, a throwaway PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

PG_ADMIN = os.environ.get("INVITE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


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
