"""A 63 MB ``targets/bulk`` body (security finding 5): peak RSS, CPU seconds and ``/health`` p99 during it.

Run: `python -m bench.attack_bodies`. A real `invite-service serve` on a fresh SQLite file; the body is
sent twice, once with its Content-Length declared and once chunked (no length), each on a fresh process
so one attack's memory does not hide the other's; then a body just under the JSON cap made of empty rows
(the most objects a byte of JSON can make).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from tests.security.server import HealthProbe, RssSampler, serve

ROW = b'{"username": "member_0000000", "first_name": "Name", "fields": {"city": "Moscow"}},'
BODY_BYTES = 63 * 1024 * 1024
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def body_chunks(row: bytes = ROW, size: int = BODY_BYTES) -> Iterator[bytes]:
    rows = (size - 32) // len(row)
    yield b'{"targets": ['
    batch = row * 1000
    for _ in range(rows // 1000):
        yield batch
    yield row * (rows % 1000) + b'{"username": "last"}]}'


def attack(chunked: bool, row: bytes = ROW, size: int = BODY_BYTES, path: str = "") -> None:
    with (
        tempfile.TemporaryDirectory(prefix="http-bench-") as tmp,
        serve(f"sqlite+aiosqlite:///{tmp}/bench.db", Path(tmp)) as srv,
    ):
        h = srv.headers()
        with srv.client(timeout=600) as c:
            task = {"name": "bench", "action": "invite", "destination": "@bench_chat"}
            tid = c.post("/api/v1/tasks", json=task, headers=h).json()["id"]
            chunks = body_chunks(row, size)
            body: bytes | Iterator[bytes] = chunks if chunked else b"".join(chunks)
            cpu_before = cpu_seconds(srv.pid)
            started = time.perf_counter()
            with HealthProbe(srv.base_url) as probe, RssSampler(srv.pid) as rss:
                try:
                    resp = c.post(
                        path or f"/api/v1/tasks/{tid}/targets/bulk",
                        content=body,
                        headers={**h, "Content-Type": "application/json"},
                    )
                    status = str(resp.status_code)
                except httpx.TransportError as exc:
                    status = f"connection error ({type(exc).__name__})"
                elapsed = time.perf_counter() - started
                while len(probe.latencies) < 5:  # a few probes after the attack, for the p99's sake
                    time.sleep(0.05)
            cpu = cpu_seconds(srv.pid) - cpu_before
    mode = "chunked" if chunked else "Content-Length"
    print(
        f"  {size / 2**20:.0f} MiB {path or 'targets/bulk'} of {row[:20]!r}… rows ({mode}):"
        f" status {status}, {elapsed:.2f} s,"
        f" peak RSS {rss.peak / 2**20:.0f} MiB (+{rss.growth / 2**20:.0f} MiB),"
        f" server CPU {cpu:.2f} s, /health p99 {probe.p99() * 1000:.0f} ms"
        f" (worst {probe.worst * 1000:.0f} ms, {probe.failures} failed)"
    )


def main() -> None:
    print("\n[bench.attack_bodies] an oversized JSON body")
    attack(chunked=False)
    attack(chunked=True)
    # The worst case under the bulk cap (16 MiB, signed in): the smallest rows, the most objects per byte.
    attack(chunked=False, row=b"{},", size=16 * 1024 * 1024 - 64)
    # … and under the cap of every other JSON route (1 MiB, before the token is checked).
    attack(chunked=False, row=b"{},", size=1024 * 1024 - 64, path="/api/v1/tasks")


if __name__ == "__main__":
    main()
