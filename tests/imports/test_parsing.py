"""Parsing Service imports over real HTTP: `invite-service sandbox-parsing` in a subprocess, a service
token on every call, a 5xx (and a 429) in the middle retried on to the last page, broken pages and
refusals failing the job with zero targets — on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from invite_service.config import Settings
from invite_service.db import Database
from invite_service.imports import file_limits as limits
from invite_service.main import create_app
from invite_service.sandbox.parsing_app import ParsingSandbox
from tests.conftest import free_port
from tests.imports.conftest import all_targets, new_task, rejected_rows, target_stats, wait_job

pytestmark = pytest.mark.asyncio
SECRET = "parsing-test-secret-0123456789abcdef"
BIN = Path(sys.executable).parent / "invite-service"


@pytest.fixture(scope="module")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log_path = tmp_path_factory.mktemp("parsing") / "sandbox.log"
    env = {**os.environ, "INVITE_INTEGRATION_TOKEN_SECRET": SECRET}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(BIN), "sandbox-parsing", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox-parsing did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
async def client(
    db_url: str, sandbox_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    # Retries without the production backoff, so a test of five failures takes no time.
    monkeypatch.setattr(limits, "PARSING_BACKOFF_BASE_SECONDS", 0.01)
    monkeypatch.setattr(limits, "PARSING_BACKOFF_MAX_SECONDS", 0.05)
    settings = Settings(
        database_url=db_url, parsing_url=sandbox_url, integration_token_secret=SECRET, log_level="WARNING"
    )
    database = Database(db_url, pool_size=5)
    app = create_app(settings, database=database)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c
    await app.state.runner.shutdown()
    await database.dispose()
    httpx.delete(f"{sandbox_url}/admin/faults")


def faults(sandbox_url: str, **body: Any) -> None:
    assert httpx.post(f"{sandbox_url}/admin/faults", json=body).status_code == 200


def served(sandbox_url: str) -> dict[str, int]:
    return dict(httpx.get(f"{sandbox_url}/admin/stats").json())


async def run_parsing(
    client: httpx.AsyncClient, headers: dict[str, str], task: str, parsing_task: str
) -> dict[str, Any]:
    resp = await client.post(
        "/api/v1/import/parsing", json={"task_id": task, "parsing_task_id": parsing_task}, headers=headers
    )
    assert resp.status_code == 202, resp.text
    return await wait_job(client, headers, resp.json()["job_id"])


async def test_import_through_a_5xx_to_the_last_page(
    client: httpx.AsyncClient, new_user, sandbox_url: str
) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    expected = ParsingSandbox(seed=0).expected("members-5500")
    suppressed = expected[10]
    resp = await client.post(
        "/api/v1/suppressions", json={"user_id": str(suppressed["user_id"]), "reason": "opt_out"}, headers=h
    )
    assert resp.status_code == 201
    # Pages 1-3 pass, then two 503s in a row (retried), then the rest; later a 429 with Retry-After.
    faults(sandbox_url, after=3, fail_next=2, fail_status=503)
    before = served(sandbox_url)
    job = await run_parsing(client, h, task, "members-5500")
    assert job["status"] == "completed", job
    after = served(sandbox_url)
    # Six pages of 1000 plus the two failed attempts.
    assert after["result_calls"] - before["result_calls"] == 8
    assert after["faults_served"] - before["faults_served"] == 2
    left_out = 5500 - len(expected)
    assert (job["rows_seen"], job["rows_invalid"], job["rows_suppressed"]) == (5500, left_out, 1)
    assert job["rows_accepted"] == len(expected) - 1
    assert job["progress"] == 100.0
    targets = await all_targets(client, h, task)
    assert {t["key"] for t in targets} == {str(u["user_id"]) for u in expected} - {str(suppressed["user_id"])}
    first = next(t for t in targets if t["key"] == str(expected[0]["user_id"]))
    assert (first["kind"], first["first_name"], first["source"]) == (
        "user_id",
        expected[0]["first_name"],
        "parsing",
    )
    assert first["username"] == expected[0]["username"]
    reasons = {r["reason"] for r in await rejected_rows(client, h, job["id"])}
    assert reasons == {"bot", "deleted_account", "suppressed"}


async def test_retry_after_on_429_then_success(client: httpx.AsyncClient, new_user, sandbox_url: str) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    faults(sandbox_url, after=1, fail_next=1, fail_status=429, retry_after=1)
    job = await run_parsing(client, h, task, "throttled-1500")
    assert job["status"] == "completed", job
    assert job["rows_seen"] == 1500


@pytest.mark.parametrize(
    ("broken", "words"), [("invalid_json", "is not JSON"), ("missing_fields", "misses fields")]
)
async def test_broken_page_fails_the_job_with_no_targets(  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient, new_user, sandbox_url: str, broken: str, words: str
) -> None:
    h = new_user()
    task = await new_task(client, h)
    faults(sandbox_url, after=2, broken_next=1, broken=broken)
    job = await run_parsing(client, h, task, "broken-4000")
    assert job["status"] == "failed", job
    assert words in job["error"]
    assert job["rows_seen"] == 2000  # it failed half-way, after two staged pages
    assert (await target_stats(client, h, task))["total"] == 0


async def test_refusals_and_exhausted_retries_fail_the_job(
    client: httpx.AsyncClient, new_user, sandbox_url: str
) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    job = await run_parsing(client, h, task, "no-such-task")
    assert (job["status"], job["rows_seen"]) == ("failed", 0)
    assert "has no task" in job["error"]
    faults(sandbox_url, after=1, fail_next=limits.PARSING_MAX_ATTEMPTS)
    before = served(sandbox_url)
    job = await run_parsing(client, h, task, "flaky-3000")
    assert job["status"] == "failed", job
    assert "503" in job["error"]
    assert served(sandbox_url)["result_calls"] - before["result_calls"] == 1 + limits.PARSING_MAX_ATTEMPTS
    assert (await target_stats(client, h, task))["total"] == 0


async def test_a_wrong_service_token_is_refused(db_url: str, sandbox_url: str, new_user) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=db_url, parsing_url=sandbox_url, integration_token_secret="x" * 40)
    database = Database(db_url, pool_size=2)
    app = create_app(settings, database=database)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
            h = new_user()
            task = await new_task(c, h)
            job = await run_parsing(c, h, task, "demo-10")
            assert job["status"] == "failed"
            assert "refused our service token" in job["error"]
    finally:
        await app.state.runner.shutdown()
        await database.dispose()
    assert httpx.get(f"{sandbox_url}/v1/tasks/demo-10/results").status_code == 401
