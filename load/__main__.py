"""``python -m load`` (``make load``): locust, headless, against the production shape, and a verdict.

Without ``LOAD_TARGET_URL`` it starts the shape itself, every piece this run's own and gone afterwards: a
throwaway PostgreSQL database, a Redis database claimed for the run, a RabbitMQ vhost, the sandbox
Integration Service, Celery workers (prefork x2) and beat, and two ``invite-service serve`` processes on
loopback ports; the simulated users are spread over the two. With ``LOAD_TARGET_URL`` (comma-separated
for several API processes) it starts nothing and needs ``LOAD_JWT_SECRET`` or ``LOAD_TOKEN``
(load/locustfile.py; README "Load test"). A target off loopback also needs ``LOAD_ALLOW_REMOTE=1``.

Knobs: ``LOAD_USERS`` (200), ``LOAD_SECONDS`` (60), ``LOAD_SPAWN_RATE`` (users/s; default users/10).
Prints per endpoint the request count, p50, p95, p95 as a ratio to ``/health``'s p95 under the same load,
and the status codes; exits 1 on any 5xx (or transport error, or unexpected 4xx), 2 when locust left no
results.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from load.report import build, render

if TYPE_CHECKING:
    from tests.production.stack import Stack

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def _loadavg() -> str:
    """1/5/15-minute load averages and the core count: how busy the box that measured was."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} cores"


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_locust(hosts: list[str], extra_env: dict[str, str], workdir: Path) -> Path | None:
    users = _env_int("LOAD_USERS", 200)
    seconds = _env_int("LOAD_SECONDS", 60)
    spawn = float(os.environ.get("LOAD_SPAWN_RATE") or max(1.0, users / 10))
    results = workdir / "results.json"
    env = {
        **os.environ,
        "LOAD_HOSTS": ",".join(hosts),
        "LOAD_RESULTS": str(results),
        "LOAD_RUN_ID": os.environ.get("LOAD_RUN_ID") or uuid.uuid4().hex[:8],
        **extra_env,
    }
    print(
        f"[load] {users} users (spawned at {spawn:g}/s) for {seconds} s against {', '.join(hosts)}; "
        f"this machine's load average {_loadavg()}"
    )
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "30",  # a user finishes what it is doing (a stream reads 3 s at most), then cleans up
        "--host",
        hosts[0],
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    # Bounded: the run time, the stop timeout and a generous margin for a busy machine's start-up.
    subprocess.run(cmd, env=env, cwd=workdir, timeout=seconds + 600, check=False)  # noqa: S603 - our argv
    print(f"[load] done; this machine's load average {_loadavg()} (the figures are ratios for that reason)")
    return results if results.exists() else None


@contextmanager
def local_stack(workdir: Path) -> Iterator[tuple[list[str], dict[str, str], Stack]]:
    """The production shape on this machine (see the module doc); yields the API URLs, the locust
    environment and the stack (its logs, its database URL)."""
    from bench.common import broker_vhost, redis_db, temp_postgres
    from tests.conftest import free_port
    from tests.production.stack import running_stack, wait_http

    from invite_service.migrations import runner

    secret = secrets.token_hex(24)
    os.environ["INVITE_JWT_SECRET"] = secret  # the processes' environment is built from this one's
    with temp_postgres() as db_url, redis_db() as redis_url, broker_vhost() as amqp_url:
        runner.upgrade(db_url)
        with running_stack(db_url, workdir, broker_url=amqp_url, redis_url=redis_url) as stack:
            stack.start_worker(concurrency=2)
            stack.start_beat()
            hosts = []
            for i in (1, 2):
                port = free_port()
                stack._start(f"api-{i}", "serve", "--port", str(port))
                hosts.append(f"http://127.0.0.1:{port}")
            for url in hosts:
                wait_http(f"{url}/health")
            database = db_url.rsplit("/", 1)[1]
            print(f"[load] stack up: PostgreSQL {database}, Redis {redis_url}, vhost {amqp_url}")
            yield hosts, {"LOAD_JWT_SECRET": secret}, stack


async def _sends(db_url: str) -> int:
    import asyncpg
    from bench.common import asyncpg_dsn

    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM invite_execution_logs"))
    finally:
        await conn.close()


def _verdict(results: Path | None) -> int:
    if results is None:
        print("[load] FAIL: locust wrote no results (see its output above)")
        return 2
    report = build(json.loads(results.read_text()))
    print("\n" + render(report))
    return 0 if report.ok else 1


def main() -> int:
    target = os.environ.get("LOAD_TARGET_URL", "").strip()
    with tempfile.TemporaryDirectory(prefix="invite-load-") as tmp:
        workdir = Path(tmp)
        if target:
            hosts = [h.strip() for h in target.split(",") if h.strip()]
            remote = [h for h in hosts if not is_loopback(h)]
            if remote and os.environ.get("LOAD_ALLOW_REMOTE") != "1":
                print(f"[load] {remote} is not loopback: set LOAD_ALLOW_REMOTE=1 to load a deployment there")
                return 2
            if not (os.environ.get("LOAD_JWT_SECRET") or os.environ.get("LOAD_TOKEN")):
                print("[load] LOAD_TARGET_URL needs LOAD_JWT_SECRET (a token per user) or LOAD_TOKEN")
                return 2
            return _verdict(run_locust(hosts, {"LOAD_CLEANUP": "1"}, workdir))
        with local_stack(workdir) as (hosts, env, stack):
            db_url = stack.db_url
            before, started = asyncio.run(_sends(db_url)), time.monotonic()
            results = run_locust(hosts, env, workdir)
            sent = asyncio.run(_sends(db_url)) - before
            rate = sent / (time.monotonic() - started)
            print(f"[load] sends by the workers meanwhile: {sent} ({rate:.0f}/s)")
            code = _verdict(results)
            if code:
                print(stack.log_tail())
            return code


if __name__ == "__main__":
    sys.exit(main())
