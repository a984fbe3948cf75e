"""The production shape on one machine: real Celery workers and beat on RabbitMQ, Redis, PostgreSQL,
and the sandbox Integration Service over HTTP — each its own process, started by the tests.

Every stack has its own RabbitMQ vhost (when ``rabbitmqctl`` can make one) and its own queue prefix,
so two copies of the suite on one broker never consume each other's jobs.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from kombu import Connection

from invite_service.auth.jwt import mint_token
from invite_service.config import PlatformCaps, Settings
from invite_service.context.jobs import queue_names
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
# Short leases and periods so crashes resolve within a test. The send lease must outlive the longest
# Integration call (2 attempts of 2 s and one 5 s backoff = 9 s, plus a 5 s margin): the engine refuses less.
TUNING: dict[str, float] = {
    "integration_timeout_seconds": 2,
    "integration_max_attempts": 2,
    "integration_max_retry_after_seconds": 1,
    "send_lease_seconds": 15,
    "reservation_lease_seconds": 15,
    "recover_seconds": 2,
    "tick_seconds": 1,
    # A killed worker holds its account until the lock's TTL (renewed every third of it while alive).
    "account_lock_ttl_seconds": 15,
    "transient_backoff_seconds": 5,  # a send the platform never saw is retried this soon
}


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


def _rabbitmqctl(*args: str) -> bool:
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        return False
    done = subprocess.run([ctl, *args], capture_output=True, text=True, timeout=120, check=False)
    return done.returncode == 0


@contextmanager
def broker_vhost(base_url: str = AMQP_URL) -> Iterator[str]:
    """The URL of a vhost of this run's own on the shared broker, deleted afterwards.

    Without ``rabbitmqctl`` (a broker elsewhere) the shared vhost is used; the stack's queue prefix
    still keeps runs apart.
    """
    vhost = f"invite-test-{uuid.uuid4().hex[:10]}"
    parts = urlsplit(base_url)
    local = parts.hostname in {"127.0.0.1", "localhost", "::1"}  # rabbitmqctl manages the local node only
    made = (
        local
        and _rabbitmqctl("add_vhost", vhost)
        and _rabbitmqctl("set_permissions", "-p", vhost, parts.username or "guest", ".*", ".*", ".*")
    )
    if not made:
        warnings.warn("no vhost of its own: the run relies on its queue prefix alone", stacklevel=2)
        _rabbitmqctl("delete_vhost", vhost)
        yield base_url
        return
    try:
        yield f"{parts.scheme}://{parts.netloc}/{vhost}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)


@dataclass
class Stack:
    db_url: str
    workdir: Path
    broker_url: str = AMQP_URL
    redis_url: str = REDIS_URL
    caps: PlatformCaps = field(default_factory=lambda: LIFTED)
    queue_prefix: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:8]}-")
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    integration_url: str = ""

    @property
    def fault_dir(self) -> Path:
        """A file ``<boundary>`` here stops the first worker process that reaches it (kit/faults.py)."""
        return self.workdir / "faults"

    @property
    def env(self) -> dict[str, str]:
        caps = {"telegram": self.caps.model_dump(), "sandbox": self.caps.model_dump()}
        return {
            **os.environ,
            "INVITE_DATABASE_URL": self.db_url,
            "INVITE_REDIS_URL": self.redis_url,
            "INVITE_BROKER_URL": self.broker_url,
            "INVITE_QUEUE_PREFIX": self.queue_prefix,
            "INVITE_INTEGRATION_URL": self.integration_url,
            "INVITE_INTEGRATION_TOKEN_SECRET": SECRET,
            "INVITE_PLATFORM_CAPS": json.dumps(caps),
            "INVITE_FAULT_DIR": str(self.fault_dir),
            "INVITE_LOG_LEVEL": "WARNING",
            **{f"INVITE_{name.upper()}": str(value) for name, value in TUNING.items()},
        }

    def settings(self) -> Settings:
        """What the processes run with (the test's own API app uses it too)."""
        settings = Settings(
            database_url=self.db_url,
            redis_url=self.redis_url,
            broker_url=self.broker_url,
            queue_prefix=self.queue_prefix,
            integration_url=self.integration_url,
            integration_token_secret=SECRET,
            platform_caps={"telegram": self.caps, "sandbox": self.caps},
            log_level="WARNING",
            **TUNING,  # type: ignore[arg-type]
        )
        settings.check_send_lease()  # what every worker and beat checks on start
        return settings

    def _start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [str(BIN), *args],
            env=self.env,
            cwd=self.workdir,  # a developer's .env must not reach the processes
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def start_integration(self) -> None:
        port = free_port()
        self.integration_url = f"http://127.0.0.1:{port}"
        args = ["--port", str(port), "--caps", "telegram", "--accounts-per-user", "4", "--seed", "5"]
        self._start("integration", "sandbox-integration", *args)
        wait_http(f"{self.integration_url}/health")

    def start_api(self, port: int | None = None) -> str:
        """``invite-service serve`` (on a free port unless given), for callers that need a real socket."""
        port = port or free_port()
        self._start("api", "serve", "--port", str(port))
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/health")
        return url

    def start_worker(self, concurrency: int = 2, name: str = "worker") -> subprocess.Popen[bytes]:
        from invite_service.workers.celery_app import worker_queues

        return self._start(
            name,
            "worker",
            "--queues",
            worker_queues(self.settings()),
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
        proc.send_signal(signal.SIGTERM)  # the main process stops its children (a warm shutdown)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        with suppress(ProcessLookupError):  # whatever of its session is left
            os.killpg(proc.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    def delete_queues(self) -> None:
        """Delete this stack's durable queues (best effort). A vhost of the run's own goes with its
        queues; on a shared vhost nothing else would remove them, nor the ticks beat left in them."""
        with suppress(Exception), Connection(self.broker_url, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=1)
            channel = conn.channel()
            for name in queue_names(self.queue_prefix).values():
                channel.queue_delete(name)

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        token = _service_token()
        resp = httpx.request(
            method,
            f"{self.integration_url}/admin{path}",
            timeout=30,
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
    from invite_service.adapters.telegram.client import mint_service_token

    return mint_service_token(SECRET, now=time.time())


def user_headers(settings: Settings, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(user, settings)}"}


@contextmanager
def running_stack(
    db_url: str, workdir: Path, *, broker_url: str | None = None, **kwargs: Any
) -> Iterator[Stack]:
    """A stack with its Integration Service up; workers and beat are the test's to start.

    Without ``broker_url`` the stack gets a new vhost on the shared broker; without ``integration_url``
    it starts the sandbox Integration Service.
    """
    with broker_vhost() if broker_url is None else _given(broker_url) as url:
        stack = Stack(db_url, workdir, broker_url=url, **kwargs)
        stack.fault_dir.mkdir(exist_ok=True)
        try:
            if not stack.integration_url:
                stack.start_integration()
            yield stack
        finally:
            stack.stop_all()
            stack.delete_queues()


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url
