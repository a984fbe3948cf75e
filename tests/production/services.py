"""Private Redis, RabbitMQ and PostgreSQL instances on free ports, for the restart tests.

Each is started by the test and stopped and started again on the same data, so what a real restart
keeps (durable queues, committed rows) is there afterwards. The shared services are never touched.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import CI, free_port, port_open

UP_TIMEOUT = 120.0  # generous: a busy machine boots an Erlang node slowly


def _unavailable(message: str) -> None:
    if CI:
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(message)


def _wait_port(port: int, what: str, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + UP_TIMEOUT
    while not port_open("127.0.0.1", port):
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening on {port}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not listen on {port} within {UP_TIMEOUT:g} s")
        time.sleep(0.1)


def _private_dir(prefix: str, owner: str | None) -> Path:
    # Under /tmp, not pytest's tmp_path: that is private to root, and the server runs as its own user.
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    if owner and os.geteuid() == 0:
        shutil.chown(path, owner, owner)
    return path


class PrivateRedis:
    def __init__(self) -> None:
        if shutil.which("redis-server") is None:
            _unavailable("redis-server is not installed")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # No persistence: a restart loses every key, the worst case the limiter must survive.
        cmd = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(self.port, "redis-server", self._proc)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()  # a crash, not a shutdown
            self._proc.wait(timeout=30)
        self._proc = None


class PrivateRabbit:
    """A RabbitMQ node of its own (name, ports, data, logs, no plugins), run as the rabbitmq user."""

    def __init__(self) -> None:
        if shutil.which("rabbitmq-server") is None or shutil.which("rabbitmqctl") is None:
            _unavailable("rabbitmq-server is not installed")
        if os.geteuid() != 0:
            _unavailable("a private RabbitMQ node needs root (Debian's wrapper runs it as rabbitmq)")
        self.dir = _private_dir("invite-rabbit-", "rabbitmq")
        self.node = f"rabbit-test-{uuid.uuid4().hex[:8]}@localhost"
        self.port = free_port()
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}//"
        for name in ("enabled_plugins", "rabbitmq-env.conf"):
            (self.dir / name).write_text("")
        (self.dir / "rabbitmq.conf").write_text(
            "loopback_users.guest = true\ndisk_free_limit.absolute = 50MB\n"
        )
        for sub in ("mnesia", "log"):
            (self.dir / sub).mkdir()
        subprocess.run(["chown", "-R", "rabbitmq:rabbitmq", str(self.dir)], check=True)
        self.env = {
            **os.environ,
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_CONF_ENV_FILE": str(self.dir / "rabbitmq-env.conf"),  # not the shared node's
        }
        self._proc: subprocess.Popen[bytes] | None = None
        self._starts = 0

    def start(self) -> None:
        self._starts += 1
        log = (self.dir / f"server-{self._starts}.out").open("wb")
        self._proc = subprocess.Popen(
            ["rabbitmq-server"],
            env=self.env,
            cwd=self.dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait_port(self.port, f"RabbitMQ node {self.node}", self._proc)
        self.ctl("await_startup")

    def ctl(self, *args: str) -> str:
        out = subprocess.run(
            ["rabbitmqctl", "-n", self.node, *args],
            capture_output=True,
            text=True,
            timeout=UP_TIMEOUT,
            check=True,
        )
        return out.stdout

    def stop(self) -> None:
        """Stop the node (its durable queues and persistent messages stay on disk)."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            subprocess.run(
                ["rabbitmqctl", "-n", self.node, "stop"], capture_output=True, timeout=UP_TIMEOUT, check=False
            )
            try:
                self._proc.wait(timeout=UP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, 9)
                self._proc.wait(timeout=30)
        self._proc = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivatePostgres:
    """A PostgreSQL cluster of its own (initdb in a temporary folder, trust auth, a free port)."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            _unavailable("PostgreSQL's server binaries (/usr/lib/postgresql/*/bin) are not installed")
        self.bin = Path(found[-1]).parent
        self.dir = _private_dir("invite-pg-", "postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/invite"
        self._options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._as_postgres(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"
        )

    def _as_postgres(self, tool: str, *args: str) -> None:
        # root may not run postgres; as any other user the cluster simply belongs to that user.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*prefix, str(self.bin / tool), *args], capture_output=True, timeout=UP_TIMEOUT, check=True
        )

    def _ctl(self, *args: str) -> None:
        log = str(self.dir / "postgres.log")
        self._as_postgres("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-t", str(int(UP_TIMEOUT)), *args)

    def start(self) -> None:
        self._ctl("-o", self._options, "start")
        _wait_port(self.port, "PostgreSQL")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "stop")

    def create_database(self) -> None:
        self._as_postgres("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "invite")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._ctl("-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A running private cluster with an ``invite`` database, migrated; removed afterwards.

    Enter it outside an event loop (a sync fixture): the migration runner runs its own loop.
    """
    from invite_service.migrations import runner

    pg = PrivatePostgres()
    try:
        pg.start()
        pg.create_database()
        runner.upgrade(pg.url)
        yield pg
    finally:
        pg.remove()


@contextmanager
def private_rabbit() -> Iterator[PrivateRabbit]:
    rabbit = PrivateRabbit()
    try:
        rabbit.start()
        yield rabbit
    finally:
        rabbit.remove()


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    try:
        redis.start()
        yield redis
    finally:
        redis.stop()
