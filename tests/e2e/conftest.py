"""A real server process (`invite-service serve`) on a free port, per database backend."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

BIN = Path(sys.executable).parent / "invite-service"


def start_server(env_extra: dict[str, str], log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "INVITE_LOG_LEVEL": "INFO", **env_extra}
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [str(BIN), "serve", "--migrate", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not become healthy in 60 s")


@pytest.fixture(scope="module")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    # Module scope: a running server's ticker works every due task in its database, so it must be
    # gone before other modules run tasks (in simulated time) in the same database.
    tmp = tmp_path_factory.mktemp("server")
    # SQLite: a brand-new file, migrated by the server itself as `make run` does.
    url = f"sqlite+aiosqlite:///{tmp / 'fresh.db'}" if db_url.startswith("sqlite") else db_url
    log_path = tmp / "server.log"
    proc, base = start_server({"INVITE_DATABASE_URL": url}, log_path)
    yield base, log_path
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
