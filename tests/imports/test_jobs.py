"""Import jobs on SQLite and PostgreSQL: dedupe, suppression, validate writes nothing, cancel, orphans
resumed, a stale run fenced off."""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from invite_service.db import Database
from invite_service.imports import file_limits as limits
from invite_service.imports import pipeline, runner, service
from invite_service.imports import repository as repo
from invite_service.kit.clock import utcnow
from invite_service.kit.tabular import bounds
from invite_service.kit.tabular.mapping import Rejection
from invite_service.models import ImportFile, ImportJob, InviteTarget
from invite_service.models.enums import ImportStatus
from invite_service.sandbox.parsing_app import ParsingSandbox, sandbox_for
from tests.imports.conftest import (
    all_targets,
    import_and_wait,
    new_task,
    rejected_rows,
    target_stats,
    upload,
    wait_job,
)

pytestmark = pytest.mark.asyncio

AUDIENCE = (
    b"username,user_id,phone,first_name\n"
    b"dup_inside,,,First\n"  # row 2
    b"already_there,,,Existing\n"  # row 3
    b"opted_out,,,Quiet\n"  # row 4
    b",555001,,By id\n"  # row 5: suppressed by user id
    b"DUP_INSIDE,,,Second\n"  # row 6: same identity as row 2
    b",,+79123456789,Phone\n"  # row 7: suppressed by phone
    b"fresh_one,,,Fresh\n"  # row 8
    b"bad!,,,Broken\n"  # row 9
)


async def suppress(client: httpx.AsyncClient, headers: dict[str, str], **identity: str) -> None:
    resp = await client.post("/api/v1/suppressions", json={"reason": "opt_out", **identity}, headers=headers)
    assert resp.status_code == 201, resp.text


async def prepared_task(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    task = await new_task(client, headers)
    resp = await client.post(
        f"/api/v1/tasks/{task}/targets", json={"username": "already_there"}, headers=headers
    )
    assert resp.status_code == 201
    await suppress(client, headers, username="@Opted_Out")
    await suppress(client, headers, user_id="555001")
    await suppress(client, headers, phone="8 912 345-67-89")
    return task


async def test_duplicates_and_suppressed_are_counted_and_left_out(
    client: httpx.AsyncClient, new_user
) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await prepared_task(client, h)
    job = await import_and_wait(client, h, task, AUDIENCE, "a.csv")
    assert job["status"] == "completed", job
    counts = {k: job[f"rows_{k}"] for k in ("seen", "accepted", "duplicate", "invalid", "suppressed")}
    assert counts == {"seen": 8, "accepted": 2, "duplicate": 2, "invalid": 1, "suppressed": 3}
    targets = {t["key"]: t for t in await all_targets(client, h, task)}
    assert set(targets) == {"already_there", "dup_inside", "fresh_one"}
    # The first row of a repeated identity wins; the existing target is untouched.
    assert targets["dup_inside"]["first_name"] == "First"
    assert targets["already_there"]["first_name"] is None
    stats = await target_stats(client, h, task)
    assert (stats["total"], stats["by_status"]["pending"], stats["by_kind"]["username"]) == (3, 3, 3)
    rows = await rejected_rows(client, h, job["id"])
    # Skipped duplicates are listed too, with the row they repeat (none: already in the task).
    assert [(r["row"], r["reason"], r["duplicate_of_row"]) for r in rows] == [
        ("3", "duplicate", ""),
        ("4", "suppressed", ""),
        ("5", "suppressed", ""),
        ("6", "duplicate", "2"),
        ("7", "suppressed", ""),
        ("9", "invalid_username", ""),
    ]
    assert "opt_out" in rows[1]["detail"]
    assert "already in the task" in rows[0]["detail"]
    # Another user's suppression list does not apply.
    other = new_user()
    other_task = await new_task(client, other)
    job = await import_and_wait(client, other, other_task, AUDIENCE, "a.csv")
    assert (job["rows_accepted"], job["rows_suppressed"]) == (6, 0)


async def test_dedupe_false_lists_every_duplicate(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await prepared_task(client, h)
    job = await import_and_wait(client, h, task, AUDIENCE, "a.csv", dedupe=False)
    assert (job["rows_accepted"], job["rows_duplicate"]) == (2, 2)
    rows = {r["row"]: r for r in await rejected_rows(client, h, job["id"])}
    assert (rows["3"]["reason"], rows["3"]["detail"]) == (
        "duplicate",
        "username already_there is already in the task",
    )
    assert (rows["6"]["reason"], rows["6"]["detail"]) == ("duplicate", "username dup_inside repeats row 2")
    assert "2" not in rows


async def test_skip_suppressed_false_imports_them_but_counts_them(
    client: httpx.AsyncClient, new_user
) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await prepared_task(client, h)
    job = await import_and_wait(client, h, task, AUDIENCE, "a.csv", skip_suppressed=False)
    assert (job["rows_accepted"], job["rows_suppressed"]) == (5, 3)
    keys = {t["key"] for t in await all_targets(client, h, task)}
    assert {"opted_out", "555001", "+79123456789"} <= keys
    assert [r["reason"] for r in await rejected_rows(client, h, job["id"])] == [
        "duplicate",
        "duplicate",
        "invalid_username",
    ]


async def test_validate_reports_and_writes_nothing(
    client: httpx.AsyncClient, new_user, database: Database
) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await prepared_task(client, h)
    before = await target_stats(client, h, task)
    resp = await upload(client, h, task, AUDIENCE, "a.csv", path="/api/v1/import/validate")
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert (out["format"], out["encoding"], out["delimiter"], out["has_header"]) == (
        "csv",
        "utf-8",
        ",",
        True,
    )
    assert out["mapping"] == {
        "username": "username",
        "user_id": "user_id",
        "phone": "phone",
        "first_name": "first_name",
    }
    counts = {k: out[k] for k in ("rows", "valid", "invalid", "duplicates", "suppressed")}
    assert counts == {"rows": 8, "valid": 2, "invalid": 1, "duplicates": 2, "suppressed": 3}
    assert [(e["row"], e["reason"]) for e in out["errors"]] == [
        (4, "suppressed"),
        (5, "suppressed"),
        (7, "suppressed"),
        (9, "invalid_username"),
    ]
    assert [p["key"] for p in out["preview"]] == ["dup_inside", "fresh_one"]
    # Without a task: no suppression or task duplicates, only what the file says.
    resp = await upload(client, h, None, AUDIENCE, "a.csv", path="/api/v1/import/validate")
    plain = resp.json()
    assert (plain["valid"], plain["duplicates"], plain["suppressed"]) == (6, 1, None)
    assert await target_stats(client, h, task) == before
    async with database.session() as s:
        user = h["X-Test-User"]
        jobs = await s.scalar(select(func.count()).select_from(ImportJob).where(ImportJob.user_id == user))
        assert jobs == 0
    resp = await upload(client, new_user(), task, AUDIENCE, "a.csv", path="/api/v1/import/validate")
    assert resp.status_code == 404


async def test_cancel_while_running_leaves_no_targets(client: httpx.AsyncClient, new_user, app) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    sandbox = sandbox_for(app.state.runtime.parsing.app.state)
    # Two pages go through, then the third hangs until the cancel stops the job.
    # Only this test's parsing task: a run another test left behind cannot use up the two good pages.
    sandbox.faults = sandbox.faults.model_copy(
        update={"after": 2, "delay_next": 1, "delay_seconds": 600, "parsing_task_id": "cancel-5000"}
    )
    try:
        resp = await client.post(
            "/api/v1/import/parsing", json={"task_id": task, "parsing_task_id": "cancel-5000"}, headers=h
        )
        assert resp.status_code == 202, resp.text
        job_id = resp.json()["job_id"]
        async with asyncio.timeout(60):
            while (await client.get(f"/api/v1/import/jobs/{job_id}", headers=h)).json()["rows_seen"] < 2000:
                await asyncio.sleep(0.05)
        resp = await client.delete(f"/api/v1/import/jobs/{job_id}", headers=h)
        assert resp.status_code == 200, resp.text
        assert resp.json()["status"] == "cancelled"
        async with asyncio.timeout(60):  # the job lets go of its staging; nothing appears afterwards
            while any(t.get_name() == "job:imports.run" for t in asyncio.all_tasks()):
                await asyncio.sleep(0.05)
        job = await wait_job(client, h, job_id)
        assert (job["status"], job["rows_accepted"]) == ("cancelled", 0)
        assert job["rows_seen"] == 2000
        assert (await target_stats(client, h, task))["total"] == 0
        again = await client.delete(f"/api/v1/import/jobs/{job_id}", headers=h)
        assert (again.status_code, again.json()["status"]) == (200, "cancelled")
    finally:
        sandbox.faults = type(sandbox.faults)()


async def _files(database: Database, job_id: str) -> int:
    async with database.session() as s:
        count = await s.scalar(
            select(func.count()).select_from(ImportFile).where(ImportFile.job_id == uuid.UUID(job_id))
        )
    return int(count or 0)


async def test_the_file_is_kept_in_chunks_until_the_job_ends(  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient, new_user, database: Database, monkeypatch
) -> None:
    monkeypatch.setattr(repo, "FILE_CHUNK_BYTES", 1000)
    h = new_user()
    task = await new_task(client, h)
    content = b"username\n" + b"".join(b"chunked_%05d\n" % i for i in range(300))
    job = await import_and_wait(client, h, task, content, "chunks.csv")
    assert (job["status"], job["rows_accepted"]) == ("completed", 300)
    assert await _files(database, job["id"]) == 0


async def _orphan(
    client: httpx.AsyncClient, h: dict[str, str], database: Database, content: bytes, attempt: int
) -> tuple[str, str]:
    """A running job as a process that died mid-way leaves it: its file stored, some progress and
    rejections of the dead run, silent for ten minutes, and no job message on any queue."""
    task = await new_task(client, h)
    async with database.session() as s:
        job = await repo.create_job(
            s, user_id=h["X-Test-User"], task_id=uuid.UUID(task), source="file", format="csv", options={}
        )
        job.attempt, job.rows_seen = attempt, 7
        await repo.store_file(s, job.id, io.BytesIO(content))
        await repo.add_rejections(s, job.id, [Rejection(2, "invalid_username", "dead run", {})])
    async with database.session() as s:
        await s.execute(
            update(ImportJob)
            .where(ImportJob.id == job.id)
            .values(updated_at=utcnow() - timedelta(minutes=10))
        )
    return task, str(job.id)


async def test_orphaned_running_jobs_are_resumed(  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient, new_user, database: Database, app
) -> None:
    h = new_user()
    content = b"username\n" + b"".join(b"orphan_%05d\n" % i for i in range(2500)) + b"orphan_00001\n"
    task, dead = await _orphan(client, h, database, content, attempt=1)
    alive = await new_task(client, h)
    async with database.session() as s:
        fresh = await repo.create_job(
            s, user_id=h["X-Test-User"], task_id=uuid.UUID(alive), source="file", options={}
        )
    # A job that beats is left alone; the silent one is sent again, and its new run starts over.
    assert await runner.sweep(app.state.runtime) >= 1
    job = await wait_job(client, h, dead)
    assert (job["status"], job["rows_seen"], job["rows_accepted"], job["rows_duplicate"]) == (
        "completed",
        2501,
        2500,
        1,
    )
    # The dead run's rejections went with it: only the new run's one duplicate is listed.
    assert [(r["row"], r["reason"], r["duplicate_of_row"]) for r in await rejected_rows(client, h, dead)] == [
        ("2502", "duplicate", "3")
    ]
    assert (await target_stats(client, h, task))["total"] == 2500
    assert await _files(database, dead) == 0
    async with database.session() as s:
        assert (await s.get(ImportJob, uuid.UUID(dead))).attempt == 2  # type: ignore[union-attr]
    assert (await client.get(f"/api/v1/import/jobs/{fresh.id}", headers=h)).json()["status"] == "running"
    async with database.session() as s:
        await repo.finish_unless_done(s, fresh.id, ImportStatus.CANCELLED, "test")


async def test_a_job_whose_runs_keep_dying_is_failed(  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient, new_user, database: Database, app
) -> None:
    h = new_user()
    task, dead = await _orphan(client, h, database, b"username\nlast_try\n", attempt=limits.MAX_RUNS)
    await runner.sweep(app.state.runtime)
    job = await wait_job(client, h, dead)
    assert job["status"] == "failed"
    assert f"started {limits.MAX_RUNS} times" in job["error"]
    assert (await target_stats(client, h, task))["total"] == 0
    assert await _files(database, dead) == 0


async def test_a_stale_run_is_fenced_off(  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient, new_user, database: Database, app
) -> None:
    """A run that lost its job (a redelivered message started a newer run) writes nothing more:
    not its progress, not its rejections, and it cannot merge; a duplicate message does nothing."""
    h = new_user()
    task, dead = await _orphan(client, h, database, b"username\nfenced_one\n", attempt=0)
    job_id = uuid.UUID(dead)
    async with database.session() as s:
        first = await service.begin_run(s, app.state.settings, job_id, sent_at=0)
    assert first is not None
    spec, _ = first
    async with database.session() as s:  # the same message again, while the first run beats
        assert await service.begin_run(s, app.state.settings, job_id, sent_at=0) is None
    async with database.session() as s:
        await s.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id)
            .values(updated_at=utcnow() - timedelta(minutes=10))
        )
    async with database.session() as s:  # the first run went silent: a new message takes over
        second = await service.begin_run(s, app.state.settings, job_id, sent_at=spec.attempt)
    assert second is not None and second[0].attempt == spec.attempt + 1
    async with database.session() as s:
        assert not await repo.record_progress(s, job_id, attempt=spec.attempt, deltas={"rows_seen": 5})
        assert not await repo.touch(s, job_id, spec.attempt)
        assert not await repo.claim_for_merge(s, job_id, spec.attempt, utcnow())
        assert await repo.record_progress(s, job_id, attempt=second[0].attempt, deltas={"rows_seen": 1})
    async with database.session() as s:
        await repo.finish_unless_done(s, job_id, ImportStatus.CANCELLED, "test")
        row = await s.get(ImportJob, job_id)
        assert row is not None and row.rows_seen == 1
        targets = await s.scalar(
            select(func.count()).select_from(InviteTarget).where(InviteTarget.task_id == uuid.UUID(task))
        )
        assert targets == 0


async def test_parsing_in_process_without_a_url(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    resp = await client.post(
        "/api/v1/import/parsing", json={"task_id": task, "parsing_task_id": "demo-2500"}, headers=h
    )
    assert resp.status_code == 202, resp.text
    job = await wait_job(client, h, resp.json()["job_id"])
    expected = ParsingSandbox(seed=0).expected("demo-2500")
    assert (job["status"], job["source"], job["rows_seen"]) == ("completed", "parsing", 2500)
    assert job["rows_accepted"] == len(expected)
    assert {t["key"] for t in await all_targets(client, h, task)} == {str(u["user_id"]) for u in expected}


async def test_a_crash_half_way_fails_the_job_and_leaves_no_targets(  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient, new_user, monkeypatch, caplog
) -> None:
    h = new_user()
    task = await new_task(client, h)
    real = pipeline.convert_chunk
    calls = []

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 3:  # two chunks are staged by then
            raise RuntimeError("driver exploded on +79123456789")
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "convert_chunk", failing)
    content = b"username\n" + b"".join(b"crash_%07d\n" % i for i in range(3 * bounds.CHUNK_ROWS))
    job = await import_and_wait(client, h, task, content, "crash.csv")
    assert job["status"] == "failed", job
    assert job["error"].startswith("An internal error stopped the import; nothing was imported")
    assert job["rows_seen"] == 2 * bounds.CHUNK_ROWS
    assert (await target_stats(client, h, task))["total"] == 0
    # Logged with where it broke, but not the message (which held a phone number).
    assert "import_crashed" in caplog.text
    assert "79123456789" not in caplog.text


async def test_parsing_import_with_an_idempotency_key_runs_once(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    body = {"task_id": task, "parsing_task_id": "again-120"}
    first = await client.post("/api/v1/import/parsing", json=body, headers={**h, "Idempotency-Key": "k-1"})
    assert first.status_code == 202, first.text
    replay = await client.post("/api/v1/import/parsing", json=body, headers={**h, "Idempotency-Key": "k-1"})
    assert (replay.status_code, replay.headers.get("Idempotent-Replayed")) == (202, "true")
    assert replay.json()["job_id"] == first.json()["job_id"]
    await wait_job(client, h, first.json()["job_id"])
    listed = (await client.get("/api/v1/import/jobs", params={"task_id": task}, headers=h)).json()
    assert listed["total"] == 1
    other = await client.post(
        "/api/v1/import/parsing",
        json={**body, "parsing_task_id": "other-5"},
        headers={**h, "Idempotency-Key": "k-1"},
    )
    assert other.status_code == 422
