"""Backup and restore of PostgreSQL (docs/runbook.md "Backup and restore"): a database made by the real
service is dumped with ``pg_dump -Fc``, dropped, created again and restored with ``pg_restore``; the
service started on it serves the same tasks, targets and counters, and the schema is at the head revision."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

from invite_service.auth.jwt import mint_token
from invite_service.config import Settings
from invite_service.migrations.runner import alembic_config
from tests.conftest import _pg_admin, fresh_postgres, require_tool
from tests.e2e.conftest import start_server

CLI = Path(sys.executable).with_name("invite-service")


def libpq_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def alembic_current(url: str) -> set[str]:
    """``alembic current``: the revisions recorded in the database's alembic_version table."""

    async def read() -> set[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                heads = await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_heads())
                return set(heads)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def alembic_heads(url: str) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


class Service:
    """``invite-service serve`` on the database, as a separate process."""

    def __init__(self, url: str, log: Path) -> None:
        self.proc, self.base = start_server({"INVITE_DATABASE_URL": url, "INVITE_LOG_LEVEL": "WARNING"}, log)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def snapshot(base: str, headers: dict[str, str]) -> dict[str, Any]:
    """What a user sees: the task list, each task with its counters, and each task's targets."""
    with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
        listing = http.get("/api/v1/tasks", params={"limit": 100})
        assert listing.status_code == 200, listing.text
        tasks = listing.json()["items"]
        seen: dict[str, Any] = {"ids": sorted(t["id"] for t in tasks), "tasks": {}}
        for task in tasks:
            one = http.get(f"/api/v1/tasks/{task['id']}").json()
            targets = http.get(f"/api/v1/tasks/{task['id']}/targets", params={"limit": 100}).json()
            seen["tasks"][task["id"]] = {
                "task": one,
                "targets": sorted((t["id"], t["username"], t["status"]) for t in targets["items"]),
                "targets_total": targets["total"],
            }
    return seen


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_postgres("invite_backup", migrated=False) as url:
        yield url


def test_a_restored_dump_serves_the_same_tasks(database: str, tmp_path: Path) -> None:
    pg_dump = require_tool("pg_dump", "apt-get install postgresql-client")
    pg_restore = require_tool("pg_restore", "apt-get install postgresql-client")
    env = {**os.environ, "INVITE_DATABASE_URL": database}
    subprocess.run([str(CLI), "migrate"], env=env, check=True, capture_output=True, timeout=120)

    headers = {"Authorization": f"Bearer {mint_token('backup-user', Settings(_env_file=None))}"}  # type: ignore[call-arg]
    service = Service(database, tmp_path / "before.log")
    try:
        with httpx.Client(base_url=service.base, headers=headers, timeout=10) as http:
            for n in range(3):
                body = {"name": f"task {n}", "platform": "sandbox", "destination": "@backup_group"}
                task = http.post("/api/v1/tasks", json=body)
                assert task.status_code == 201, task.text
                rows = [{"username": f"person_{n}_{i}"} for i in range(5 * (n + 1))]
                added = http.post(f"/api/v1/tasks/{task.json()['id']}/targets/bulk", json={"targets": rows})
                assert added.status_code == 200, added.text
        before = snapshot(service.base, headers)
    finally:
        service.stop()
    assert len(before["ids"]) == 3
    assert sorted(t["targets_total"] for t in before["tasks"].values()) == [5, 10, 15]

    dump = tmp_path / "invite.dump"
    dsn = libpq_dsn(database)
    subprocess.run([pg_dump, "-Fc", "--no-owner", "-f", str(dump), dsn], check=True, timeout=120)
    name = dsn.rsplit("/", 1)[1]
    asyncio.run(_pg_admin(f'DROP DATABASE "{name}" WITH (FORCE)'))
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    assert alembic_current(database) == set()  # really empty: nothing survived the drop
    subprocess.run(
        [pg_restore, "--no-owner", "--exit-on-error", "-d", dsn, str(dump)], check=True, timeout=120
    )

    assert alembic_current(database) == alembic_heads(database)
    service = Service(database, tmp_path / "after.log")
    try:
        after = snapshot(service.base, headers)
    finally:
        service.stop()
    assert after == before
