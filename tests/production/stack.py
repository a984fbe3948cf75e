"""The production shape on one machine: real Celery workers and beat on RabbitMQ, Redis, PostgreSQL,
and the sandbox Integration Service over HTTP — each its own process, started by the tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from invite_service.auth.jwt import mint_token
from invite_service.config import PlatformCaps, Settings
from tests.conftest import AMQP_URL, REDIS_URL, free_port

BIN = Path(sys.executable).parent / "invite-service"
SECRET = "production-shape-test-secret-0123456789abcdef"
LIFTED = PlatformCaps(
    invites_per_hour=100_000,
    invites_per_day=1_000_000,
    messages_per_hour=100_000,
    messages_per_day=1_000_000,
    min_delay_seconds=0,
)


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


@dataclass
class Stack:
    db_url: str
    workdir: Path
    redis_url: str = REDIS_URL
    caps: PlatformCaps = field(default_factory=lambda: LIFTED)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    integration_url: str = ""

    @property
    def env(self) -> dict[str, str]:
        caps = {"telegram": self.caps.model_dump(), "sandbox": self.caps.model_dump()}
        return {
            **os.environ,
            "INVITE_DATABASE_URL": self.db_url,
            "INVITE_REDIS_URL": self.redis_url,
            "INVITE_BROKER_URL": AMQP_URL,
            "INVITE_INTEGRATION_URL": self.integration_url,
            "INVITE_INTEGRATION_TOKEN_SECRET": SECRET,
            "INVITE_PLATFORM_CAPS": json.dumps(caps),
            "INVITE_SEND_LEASE_SECONDS": "4",
            "INVITE_RESERVATION_LEASE_SECONDS": "15",
            "INVITE_RECOVER_SECONDS": "2",
            "INVITE_TICK_SECONDS": "1",
            "INVITE_LOG_LEVEL": "WARNING",
        }

    def settings(self) -> Settings:
        return Settings(
            database_url=self.db_url,
            redis_url=self.redis_url,
            broker_url=AMQP_URL,
            integration_url=self.integration_url,
            integration_token_secret=SECRET,
            platform_caps={"telegram": self.caps, "sandbox": self.caps},
            log_level="WARNING",
        )

    def _start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [str(BIN), *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs[name] = proc
        return proc

    def start_integration(self) -> None:
        port = free_port()
        self.integration_url = f"http://127.0.0.1:{port}"
        self._start(
            "integration",
            "sandbox-integration",
            "--port",
            str(port),
            "--caps",
            "telegram",
            "--accounts-per-user",
            "4",
            "--seed",
            "5",
        )
        wait_http(f"{self.integration_url}/health")

    def start_worker(self, concurrency: int = 2, name: str = "worker") -> subprocess.Popen[bytes]:
        return self._start(
            name,
            "worker",
            "--concurrency",
            str(concurrency),
            "--pool",
            "prefork",
            "--name",
            f"{name}-{uuid.uuid4().hex[:6]}@%h",
            "--loglevel",
            "WARNING",
        )

    def start_beat(self) -> None:
        self._start(
            "beat", "beat", "--loglevel", "WARNING", "--schedule", str(self.workdir / "beat-schedule")
        )

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        token = _service_token()
        resp = httpx.request(
            method,
            f"{self.integration_url}/admin{path}",
            timeout=10,
            headers={"Authorization": f"Bearer {token}"},
            **kwargs,
        )
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def ledger(self) -> list[dict[str, Any]]:
        return list(self.admin("GET", "/ledger")["entries"])

    def log_tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in self.workdir.glob("*.log"))


def _service_token() -> str:
    from invite_service.accounts.integration_client import mint_service_token

    return mint_service_token(SECRET, now=time.time())


def user_headers(settings: Settings, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(user, settings)}"}


@contextmanager
def running_stack(db_url: str, workdir: Path, **kwargs: Any) -> Iterator[Stack]:
    stack = Stack(db_url, workdir, **kwargs)
    try:
        stack.start_integration()
        from invite_service.workers.celery_app import celery_for

        celery_for(stack.settings()).control.purge()  # leftovers of an earlier run must not interfere
        yield stack
    finally:
        stack.stop_all()
