"""An import survives ``kill -9`` of the API process mid-way (issue: imports run as jobs).

The last test is the production shape: the job runs on a Celery worker, killing the API does not touch it.

A real ``invite-service serve`` (the embedded profile: the in-process job runner), on SQLite and on
PostgreSQL, imports a 200,000-row CSV. The test kills it with SIGKILL once the job has read part of the
file (its rows_seen between 0 and the total), checks the job is still ``running`` with its file kept,
starts the API again on the same database and waits for the job to complete: the new process's first
orphan sweep runs it again and the new run starts over. Exactly the file's targets exist afterwards, each
once, and the file's rows are gone. Every wait is on a condition, bounded by a generous deadline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from invite_service.auth.jwt import mint_token
from invite_service.config import Settings
from invite_service.db import Database
from invite_service.models import ImportFile, ImportJob, InviteTarget, TaskCounters
from tests.conftest import free_port

# Process kills and a 200,000-row file: the slow tier (`make test` runs them, `make test-fast` does not).
pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
BIN = Path(sys.executable).parent / "invite-service"
SECRET = "import-restart-test-secret-0123456789abcdef"
ROWS = 200_000
DEADLINE = 180.0  # seconds; a guard against a hang, never a timing assertion


def wait_until(what: str, check: Callable[[], Any], timeout: float = DEADLINE) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Api:
    """``invite-service serve`` in a subprocess of its own session (so kill -9 takes all of it)."""

    def __init__(self, db_url: str, workdir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.env = {
            **os.environ,
            "INVITE_DATABASE_URL": db_url,
            "INVITE_JWT_SECRET": SECRET,
            "INVITE_BROKER_URL": "",
            "INVITE_REDIS_URL": "",
            "INVITE_LOG_LEVEL": "WARNING",
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = (self.workdir / f"serve-{self.starts}.log").open("ab")
        self.proc = subprocess.Popen(
            [str(BIN), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            cwd=self.workdir,  # a developer's .env must not reach the process
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until("the API to answer", self._healthy, timeout=60)

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"serve exited:\n{self.log_tail()}")
        try:
            return httpx.get(f"{self.base}/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in self.workdir.glob("serve-*.log"))


@contextmanager
def api_process(db_url: str, workdir: Path) -> Iterator[Api]:
    api = Api(db_url, workdir)
    try:
        yield api
    finally:
        api.kill()


def audience(rows: int) -> bytes:
    return b"username,first_name\n" + b"".join(b"restart_%07d,Name%d\n" % (i, i % 7) for i in range(rows))


async def _db_state(database: Database, job_id: uuid.UUID, task_id: uuid.UUID) -> dict[str, Any]:
    async with database.session() as s:
        job = (
            await s.scalars(
                select(ImportJob).where(ImportJob.id == job_id).execution_options(populate_existing=True)
            )
        ).one()
        targets = await s.scalar(select(func.count()).where(InviteTarget.task_id == task_id))
        keys = await s.scalar(
            select(func.count(func.distinct(InviteTarget.key))).where(InviteTarget.task_id == task_id)
        )
        files = await s.scalar(select(func.count()).where(ImportFile.job_id == job_id))
        counters = await s.get(TaskCounters, task_id)
    return {
        "status": job.status,
        "attempt": job.attempt,
        "rows_seen": job.rows_seen,
        "rows_accepted": job.rows_accepted,
        "rows_duplicate": job.rows_duplicate,
        "targets": targets,
        "distinct_keys": keys,
        "files": files,
        "pending": counters.pending if counters is not None else None,
    }


async def test_an_import_survives_kill_9_of_the_api(db_url: str, tmp_path: Path) -> None:
    user = f"user-{uuid.uuid4().hex[:12]}"
    headers = {
        "Authorization": f"Bearer {mint_token(user, Settings(database_url=db_url, jwt_secret=SECRET))}"
    }
    database = Database(db_url, pool_size=2)
    try:
        with api_process(db_url, tmp_path) as api, httpx.Client(base_url=api.base, timeout=60) as http:
            api.start()
            resp = http.post(
                "/api/v1/tasks",
                json={
                    "name": "Restart",
                    "platform": "telegram",
                    "action": "message",
                    "message_template": "Hi",
                },
                headers=headers,
            )
            assert resp.status_code == 201, resp.text
            task_id = resp.json()["id"]
            resp = http.post(
                "/api/v1/import/file",
                headers=headers,
                data={"task_id": task_id},
                files={"file": ("big.csv", audience(ROWS))},
            )
            assert resp.status_code == 202, resp.text
            job_id = resp.json()["job_id"]

            def part_read() -> bool:
                job = http.get(f"/api/v1/import/jobs/{job_id}", headers=headers).json()
                assert job["status"] == "running", job  # it must not finish before the kill
                return bool(0 < job["rows_seen"] < ROWS)

            wait_until("the job to be part-way", part_read)
            api.kill()

            before = await _db_state(database, uuid.UUID(job_id), uuid.UUID(task_id))
            assert before["status"] == "running", before  # not failed by the process's death
            assert (before["attempt"], before["targets"]) == (1, 0), before
            assert before["files"] > 0  # the file is still kept for the next run

            api.start()  # the same database; a sweep resumes the job once its heartbeat is stale

            def finished() -> dict[str, Any] | None:
                job = http.get(f"/api/v1/import/jobs/{job_id}", headers=headers).json()
                return job if job["status"] != "running" else None

            job = wait_until("the job to finish after the restart", finished)
            assert job["status"] == "completed", (job, api.log_tail())
            assert (job["rows_seen"], job["rows_accepted"], job["rows_duplicate"]) == (ROWS, ROWS, 0)
            api.stop()

        after = await _db_state(database, uuid.UUID(job_id), uuid.UUID(task_id))
        assert after == {
            "status": "completed",
            "attempt": 2,  # one run killed, one run that finished
            "rows_seen": ROWS,
            "rows_accepted": ROWS,
            "rows_duplicate": 0,
            "targets": ROWS,
            "distinct_keys": ROWS,  # no identity twice
            "files": 0,  # the file went with the merge
            "pending": ROWS,  # the task's counters counted each target once
        }
    finally:
        await database.dispose()


@pytest.fixture
def own_postgres() -> Iterator[str]:
    from tests.conftest import fresh_postgres

    with fresh_postgres("invite_import_restart") as url:  # a sync fixture: it runs its own loop
        yield url


async def test_an_import_survives_kill_9_of_the_api_on_celery(own_postgres: str, tmp_path: Path) -> None:
    """The production shape: the job runs on a Celery worker (RabbitMQ, a vhost and queue prefix of
    this run's own), so killing the API mid-way does not touch it; it completes with every target once."""
    from tests.conftest import require_service
    from tests.production.stack import running_stack

    require_service("Redis", "127.0.0.1", 6379)
    require_service("RabbitMQ", "127.0.0.1", 5672)
    user = f"user-{uuid.uuid4().hex[:12]}"
    db_url = own_postgres
    with running_stack(db_url, tmp_path) as stack:
        stack.start_worker(concurrency=1)
        api = Api(db_url, tmp_path)
        api.env = {**stack.env, "INVITE_JWT_SECRET": SECRET}
        settings = stack.settings().model_copy(update={"jwt_secret": SECRET})
        headers = {"Authorization": f"Bearer {mint_token(user, settings)}"}
        database = Database(db_url, pool_size=2)
        try:
            with httpx.Client(base_url=api.base, timeout=60) as http:
                api.start()
                resp = http.post(
                    "/api/v1/tasks",
                    json={"name": "R", "platform": "telegram", "action": "message", "message_template": "Hi"},
                    headers=headers,
                )
                assert resp.status_code == 201, resp.text
                task_id = resp.json()["id"]
                resp = http.post(
                    "/api/v1/import/file",
                    headers=headers,
                    data={"task_id": task_id},
                    files={"file": ("big.csv", audience(ROWS))},
                )
                assert resp.status_code == 202, resp.text
                job_id = uuid.UUID(resp.json()["job_id"])

                def underway() -> bool:
                    job = http.get(f"/api/v1/import/jobs/{job_id}", headers=headers).json()
                    assert job["status"] == "running", job
                    return bool(0 < job["rows_seen"] < ROWS)

                wait_until("the worker to be part-way", underway)
                api.kill()

            async def state() -> dict[str, Any]:
                return await _db_state(database, job_id, uuid.UUID(task_id))

            deadline = time.monotonic() + DEADLINE
            while (now := await state())["status"] == "running":
                assert time.monotonic() < deadline, (now, stack.log_tail())
                time.sleep(0.1)
            assert now == {
                "status": "completed",
                "attempt": 1,
                "rows_seen": ROWS,
                "rows_accepted": ROWS,
                "rows_duplicate": 0,
                "targets": ROWS,
                "distinct_keys": ROWS,
                "files": 0,
                "pending": ROWS,
            }, stack.log_tail()
        finally:
            api.kill()
            await database.dispose()
