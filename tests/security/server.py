"""A real ``invite-service serve`` process for the attack tests, and what they measure around it.

Each server is a subprocess on a free port with its own database, so an attack that pins a CPU or grows
memory shows up as it would in production: in that process's RSS and in a concurrent client's view of
``/health``. ``HealthProbe`` is that client; ``rss_bytes`` samples the server's memory.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from invite_service.auth.jwt import mint_token
from invite_service.config import Settings
from tests.conftest import free_port

BIN = Path(sys.executable).parent / "invite-service"
SECRET = "security-suite-secret-0123456789abcdef-xyz"
START_DEADLINE_SECONDS = 60.0  # a guard against a server that never comes up, not a timing assertion


@dataclass
class Server:
    base_url: str
    db_url: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    settings: Settings = field(repr=False)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def headers(self, user: str | None = None) -> dict[str, str]:
        """Auth headers for ``user`` (a fresh random user when omitted)."""
        user = user or f"user-{uuid.uuid4().hex[:12]}"
        return {"Authorization": f"Bearer {mint_token(user, self.settings)}", "X-Test-User": user}

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=kwargs.pop("timeout", 60.0), **kwargs)  # type: ignore[arg-type]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def rss_bytes(self) -> int:
        return rss_bytes(self.pid)


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


@contextmanager
def serve(db_url: str, workdir: Path, **env: str) -> Iterator[Server]:
    """``invite-service serve --migrate`` on a free port; stopped (and its log kept) afterwards."""
    port = free_port()
    settings = Settings(database_url=db_url, jwt_secret=SECRET, log_level="WARNING")
    full_env = {
        **os.environ,
        "INVITE_DATABASE_URL": db_url,
        "INVITE_JWT_SECRET": SECRET,
        "INVITE_LOG_LEVEL": "INFO",
        "INVITE_LOG_JSON": "true",
        **{f"INVITE_{k.upper()}": v for k, v in env.items()},
    }
    for name in ("INVITE_REDIS_URL", "INVITE_BROKER_URL", "INVITE_INTEGRATION_URL"):
        full_env.setdefault(name, "")  # embedded unless the test asks otherwise
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"server-{port}.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [str(BIN), "serve", "--migrate", "--port", str(port)],
            env=full_env,
            cwd=workdir,  # a developer's .env must not reach the process
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", db_url, proc, log_path, settings)
    try:
        _wait_up(server)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_up(server: Server) -> None:
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"the server exited ({server.proc.returncode}):\n{server.log()[-4000:]}")
        try:
            if httpx.get(f"{server.base_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer /health in time:\n{server.log()[-4000:]}")


class HealthProbe:
    """A concurrent client asking ``/health`` back to back while an attack runs.

    ``worst`` is the longest wait for one answer (a request that has not answered yet counts for as
    long as it has been waiting). The bound a test checks is generous: a functional check that the
    service still answers, not a benchmark.
    """

    def __init__(self, base_url: str) -> None:
        self._url = f"{base_url}/health"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.latencies: list[float] = []
        self.failures = 0
        self._pending_since: float | None = None

    def _run(self) -> None:
        with httpx.Client(timeout=120) as client:
            while not self._stop.is_set():
                self._pending_since = time.monotonic()
                try:
                    ok = client.get(self._url).status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.latencies.append(time.monotonic() - self._pending_since)
                self._pending_since = None
                if not ok:
                    self.failures += 1
                self._stop.wait(0.05)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=180)

    @property
    def worst(self) -> float:
        pending = self._pending_since
        waiting = time.monotonic() - pending if pending is not None else 0.0
        return max([*self.latencies, waiting, 0.0])

    def kept_answering(self) -> bool:
        """Every /health asked while the block ran was answered 200, and at least one was asked."""
        return self.failures == 0 and bool(self.latencies)

    def p99(self) -> float:
        if not self.latencies:
            return self.worst
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


class RssSampler:
    """Peak resident memory of a process while a block runs (sampled every 50 ms)."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.start = rss_bytes(pid)
        self.peak = self.start

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, rss_bytes(self._pid))
            except (OSError, RuntimeError):
                return
            self._stop.wait(0.05)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    @property
    def growth(self) -> int:
        return self.peak - self.start


def read_head(sock: socket.socket) -> bytes:
    """An HTTP answer's status line and headers (and whatever of the body came with them) off a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data
