"""A real ``invite-service sandbox-integration`` process for tests, and the calls a test makes on it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from invite_service.adapters.telegram import mint_service_token
from tests.conftest import free_port

CLI = Path(sys.executable).with_name("invite-service")


class SandboxServer:
    """One server process on a free port; ``start`` again (same ``state_file``) is a restart."""

    def __init__(
        self,
        secret: str,
        workdir: Path,
        *,
        seed: int,
        state_file: Path | None = None,
        events_url: str | None = None,
    ) -> None:
        self.secret, self.workdir, self.seed, self.state_file = secret, workdir, seed, state_file
        self.events_url = events_url
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, timeout: float = 30) -> None:
        port = free_port()
        args = [str(CLI), "sandbox-integration", "--port", str(port), "--seed", str(self.seed)]
        args += ["--caps", "none", "--accounts-per-user", "0"]
        if self.state_file is not None:
            args += ["--state-file", str(self.state_file)]
        if self.events_url:
            args += ["--events-url", self.events_url]
        env = {**os.environ, "INVITE_INTEGRATION_TOKEN_SECRET": self.secret, "INVITE_PROFILE": "embedded"}
        log_path = self.workdir / f"server-{port}.log"
        with log_path.open("wb") as log:
            # cwd elsewhere: a developer's .env must not reach the server.
            self.process = subprocess.Popen(args, env=env, stdout=log, stderr=log, cwd=self.workdir)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"sandbox-integration exited: {log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("sandbox-integration did not come up")
            time.sleep(0.05)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """SIGTERM: a graceful stop; SIGKILL: a crash (calls in flight are cut where they are)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def admin(self) -> httpx.AsyncClient:
        """A client carrying a service token: for ``/admin`` and for raw ``/v1`` calls."""
        headers = {"Authorization": f"Bearer {mint_service_token(self.secret, ttl_seconds=600)}"}
        return httpx.AsyncClient(base_url=self.url, headers=headers)


async def prepare(admin: httpx.AsyncClient, user: str, accounts: tuple[str, ...]) -> None:
    """A clean platform (and no operation keys) with these accounts."""
    (await admin.post("/admin/reset", params={"keep_accounts": "false"})).raise_for_status()
    await add_accounts(admin, user, accounts)


async def add_accounts(admin: httpx.AsyncClient, user: str, accounts: tuple[str, ...]) -> None:
    for account in accounts:
        body = {"account_id": account, "user_id": user, "label": account}
        (await admin.post("/admin/accounts", json=body)).raise_for_status()


async def ledger(admin: httpx.AsyncClient) -> dict[str, Any]:
    response = await admin.get("/admin/ledger")
    response.raise_for_status()
    return dict(response.json())


async def platform_calls(admin: httpx.AsyncClient) -> list[tuple[str, str, str]]:
    """(account, target, result) of every call that reached the simulated platform."""
    return [(c["account_id"], c["target"], c["result"]) for c in (await ledger(admin))["platform_calls"]]


async def calls(admin: httpx.AsyncClient, operation: str) -> int:
    return int((await admin.get("/admin/state")).json()["calls"].get(operation, 0))


async def inject(admin: httpx.AsyncClient, path: str, **body: Any) -> None:
    (await admin.post(f"/admin/faults/{path}", json=body)).raise_for_status()


async def until(condition: Callable[[], Awaitable[bool]], timeout: float = 10) -> None:
    """Wait for a condition (never a fixed sleep)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the condition did not hold in time")
        await asyncio.sleep(0.02)
