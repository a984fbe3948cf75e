"""Production never fakes (issue 14 item 1): a production process without a real Integration or Parsing
Service refuses to start unless the operator opts into the simulators, and then says so everywhere; the
``sandbox`` platform is not offered to users in production without the opt-in."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from invite_service.auth.jwt import mint_token
from invite_service.config import Settings
from invite_service.db import Database
from invite_service.main import create_app
from tests.conftest import AMQP_URL, free_port
from tests.e2e.conftest import start_server

CLI = Path(sys.executable).with_name("invite-service")
JWT_SECRET = "production-jwt-secret-" + "j" * 32
SERVICE_SECRET = "production-service-secret-" + "s" * 32
TASK: dict[str, Any] = {"name": "t", "action": "invite", "destination": "@some_group"}


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a production process with real secrets, and no INVITE_* from the shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVITE_")}
    env.update(
        INVITE_PROFILE="production",
        INVITE_JWT_SECRET=JWT_SECRET,
        INVITE_INTEGRATION_TOKEN_SECRET=SERVICE_SECRET,
        INVITE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'prod.db'}",
        INVITE_LOG_LEVEL="INFO",
        **extra,
    )
    return env


@pytest.mark.parametrize(
    ("command", "extra"),
    [
        (["serve", "--port", "0"], {}),
        (["serve", "--port", "0"], {"INVITE_PARSING_URL": "http://parsing.internal"}),
        (["worker", "--pool", "solo"], {"INVITE_BROKER_URL": AMQP_URL}),
        (["beat"], {"INVITE_BROKER_URL": AMQP_URL, "INVITE_PARSING_URL": "http://parsing.internal"}),
    ],
    ids=["serve", "serve-with-parsing", "worker", "beat"],
)
def test_a_production_start_without_an_integration_url_exits_non_zero_with_the_reason(
    tmp_path: Path, command: list[str], extra: dict[str, str]
) -> None:
    env = production_env(tmp_path, **extra)
    # The timeout only guards against a process that starts anyway; the assertions are on the outcome.
    proc = subprocess.run(
        [str(CLI), *command], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "INVITE_INTEGRATION_URL" in proc.stderr
    assert "INVITE_ALLOW_SANDBOX" in proc.stderr
    assert ("INVITE_PARSING_URL" in proc.stderr) == ("INVITE_PARSING_URL" not in extra)
    assert JWT_SECRET not in proc.stdout + proc.stderr


@pytest.fixture
def opted_in_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    log = tmp_path / "server.log"
    env = production_env(tmp_path, INVITE_ALLOW_SANDBOX="true")
    proc, base = start_server({k: v for k, v in env.items() if k.startswith("INVITE_")}, log)
    yield base, log
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_with_the_opt_in_it_starts_and_says_so_in_health_meta_and_the_log(
    opted_in_server: tuple[str, Path],
) -> None:
    base, log = opted_in_server
    health = httpx.get(f"{base}/api/v1/health/detailed", timeout=10)
    assert health.status_code == 200, health.text
    body = health.json()
    assert body["profile"] == "production"
    assert body["sandbox_allowed"] is True
    assert body["simulated"] == ["telegram", "sandbox", "parsing"]
    assert body["checks"]["parsing"] == {
        "status": "not_configured",
        "latency_ms": None,
        "backend": "sandbox",
        "error": None,
        "detail": None,
    }

    token = mint_token("ops", Settings(_env_file=None, jwt_secret=JWT_SECRET))  # type: ignore[call-arg]
    headers = {"Authorization": f"Bearer {token}"}
    meta = httpx.get(f"{base}/api/v1/meta", headers=headers, timeout=10)
    assert meta.status_code == 200, meta.text
    assert meta.json() == {
        "profile": "production",
        "sandbox_allowed": True,
        "simulated": ["telegram", "sandbox", "parsing"],
        "platforms": ["telegram", "sandbox"],
    }
    assert httpx.get(f"{base}/api/v1/meta", timeout=10).status_code == 401
    created = httpx.post(f"{base}/api/v1/tasks", json={**TASK, "platform": "sandbox"}, headers=headers)
    assert created.status_code == 201, created.text

    started = log.read_text()
    assert "simulators_in_use" in started
    assert "WARNING" in started.upper()


# -- the sandbox platform in production, in process ------------------------------------------------


@pytest.fixture
async def production_clients(db_url: str, database: Database) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """Two production apps on one database: one with real service URLs (nothing simulated), one opted in."""
    base = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=db_url, log_level="WARNING", profile="production", jwt_secret=JWT_SECRET
    )
    dead = f"http://127.0.0.1:{free_port()}"  # never called: no task here has accounts or imports
    real = base.model_copy(update={"integration_url": dead, "parsing_url": dead})
    opted_in = base.model_copy(update={"allow_sandbox": True})
    clients = {
        name: httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(s, database=database)), base_url="http://t"
        )
        for name, s in (("real", real), ("opted_in", opted_in))
    }
    yield clients
    for c in clients.values():
        await c.aclose()


async def test_a_sandbox_task_is_422_in_production_without_the_opt_in(
    production_clients: dict[str, httpx.AsyncClient],
) -> None:
    real, opted_in = production_clients["real"], production_clients["opted_in"]
    token = mint_token("prod-user", Settings(_env_file=None, jwt_secret=JWT_SECRET))  # type: ignore[call-arg]
    headers = {"Authorization": f"Bearer {token}"}

    meta = (await real.get("/api/v1/meta", headers=headers)).json()
    assert meta == {
        "profile": "production",
        "sandbox_allowed": False,
        "simulated": [],
        "platforms": ["telegram"],
    }

    refused = await real.post("/api/v1/tasks", json={**TASK, "platform": "sandbox"}, headers=headers)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [e["loc"][-1] for e in refused.json()["errors"]] == ["platform"]
    # The default platform is sandbox: leaving it out is refused the same way.
    defaulted = await real.post("/api/v1/tasks", json=TASK, headers=headers)
    assert defaulted.status_code == 422
    assert (
        await real.post("/api/v1/tasks", json={**TASK, "platform": "telegram"}, headers=headers)
    ).status_code == 201

    # A sandbox task made while the simulators were allowed cannot be updated once they are not.
    made = await opted_in.post("/api/v1/tasks", json={**TASK, "platform": "sandbox"}, headers=headers)
    assert made.status_code == 201, made.text
    task_id = made.json()["id"]
    updated = await real.put(f"/api/v1/tasks/{task_id}", json={"name": "renamed"}, headers=headers)
    assert updated.status_code == 422, updated.text
    assert [e["loc"][-1] for e in updated.json()["errors"]] == ["platform"]
    assert (
        await opted_in.put(f"/api/v1/tasks/{task_id}", json={"name": "renamed"}, headers=headers)
    ).status_code == 200
