"""`python -m bench.materialise`: materialising an audience of 1,000,000 contacts into a task on
PostgreSQL, as a ratio to a bare ``INSERT … SELECT`` of the same rows into invite_targets in the same
run; the API's answers (`/health` and a task read, on a real `invite-service serve` over the same
database) while a second 1M materialise runs, as ratios to the same requests with the database idle;
and the contact policy's frequency claim per send, as a ratio to the suppression check alone.

``INVITE_BENCH_CONTACTS`` sets the audience size (default 1,000,000)."""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import text

from bench.common import server, summary, temp_postgres
from invite_service.audiences import policy as contact_policy
from invite_service.auth.jwt import mint_token
from invite_service.config import Settings
from invite_service.db import Database
from invite_service.kit.clock import utcnow
from invite_service.migrations import runner
from invite_service.models import Audience, InviteTarget, InviteTask
from invite_service.models.enums import Step, TargetKind, TaskStatus
from invite_service.stores import task_audiences
from invite_service.stores import tasks as task_store
from invite_service.stores.suppressions import insert_many, is_suppressed

N = int(os.environ.get("INVITE_BENCH_CONTACTS", "1000000"))
SENDS = 2000
USER = "bench-user"


async def _task(db: Database, name: str) -> InviteTask:
    async with db.session() as s:
        task = InviteTask(
            id=uuid.uuid4(), user_id=USER, name=name, platform="sandbox", action="message",
            message_template="Hi", status=TaskStatus.DRAFT, settings={},
        )  # fmt: skip
        await task_store.add(s, task)
    return task


async def _seed(db: Database) -> uuid.UUID:
    audience = uuid.uuid4()
    async with db.session() as s:
        s.add(Audience(id=audience, user_id=USER, platform="sandbox", name="bench"))
        await s.flush()
        await s.execute(
            text(
                "INSERT INTO contacts (user_id, platform, kind, key, username, first_name, fields, "
                "created_at, updated_at) "
                "SELECT :user, 'sandbox', 'username', 'person_' || g, 'person_' || g, "
                "'P' || g, '{\"city\": \"Tver\"}'::jsonb, now(), now() FROM generate_series(1, :n) AS g"
            ),
            {"user": USER, "n": N},
        )
        await s.execute(
            text(
                "INSERT INTO audience_members (audience_id, contact_id, added_at) "
                "SELECT :aud, id, now() FROM contacts WHERE user_id = :user"
            ),
            {"aud": audience, "user": USER},
        )
    async with db.session() as s:
        for table in ("contacts", "audience_members", "invite_targets"):
            await s.execute(text(f"ANALYZE {table}"))
    return audience


async def _bare_insert(db: Database, task_id: uuid.UUID) -> float:
    sql = text(
        "INSERT INTO invite_targets (task_id, user_id, kind, key, username, platform_user_id, phone, "
        "first_name, last_name, extra, source, status, attempts, lineage, contact_id, "
        "created_at, updated_at) "
        "SELECT :task, user_id, kind, key, username, platform_user_id, phone, first_name, last_name, fields, "
        "'audience', 'pending', 0, 0, id, now(), now() FROM contacts WHERE user_id = :user"
    )
    t0 = time.perf_counter()
    async with db.session() as s:
        await s.execute(sql, {"task": task_id, "user": USER})
    return time.perf_counter() - t0


async def _materialise(db: Database, task_id: uuid.UUID, audience: uuid.UUID) -> tuple[float, int]:
    t0 = time.perf_counter()
    async with db.session() as s:
        inserted = await task_audiences.materialise(
            s, task_id, task_audiences.Draw(USER, "sandbox", [audience]), utcnow()
        )
    return time.perf_counter() - t0, inserted


async def _per_send(db: Database, task: InviteTask) -> tuple[list[float], list[float]]:
    async with db.session() as s:  # one entry, so the check runs its query rather than a shortcut
        await insert_many(s, [{"user_id": USER, "platform": "sandbox", "kind": "username", "key": "x",
                               "reason": "opt_out"}])  # fmt: skip
    checks: list[float] = []
    claims: list[float] = []
    for i in range(SENDS):
        target = InviteTarget(id=i + 1, kind=TargetKind.USERNAME, key=f"person_{i + 1}", contact_id=None)
        t = time.perf_counter()
        async with db.session() as s:
            await is_suppressed(s, USER, "sandbox", username=target.key, platform_user_id=None, phone=None)
        checks.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        async with db.session() as s:
            assert await contact_policy.claim(s, task, target, Step.MESSAGE, utcnow())
        claims.append((time.perf_counter() - t) * 1000)
    return checks, claims


class Probe:
    """Another user's requests, back to back, on a thread: the API as a person sees it meanwhile."""

    def __init__(self, base: str, task_id: uuid.UUID) -> None:
        token = mint_token(USER, Settings())
        self._http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120)
        self._paths = ["/health", f"/api/v1/tasks/{task_id}"]
        self.samples: dict[str, list[float]] = {path: [] for path in self._paths}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for path in self._paths:
                t = time.perf_counter()
                self._http.get(path).raise_for_status()
                self.samples[path].append((time.perf_counter() - t) * 1000)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._http.close()


async def run(pg_url: str, base: str) -> None:
    runner.upgrade(pg_url)
    db = Database(pg_url, pool_size=5)
    try:
        t0 = time.perf_counter()
        audience = await _seed(db)
        seeded = time.perf_counter() - t0
        bare_task, task = await _task(db, "bare"), await _task(db, "materialised")
        bare = await _bare_insert(db, bare_task.id)
        took, inserted = await _materialise(db, task.id, audience)
        assert inserted == N, (inserted, N)
        # The same materialise again, into another task, with the API being read meanwhile.
        probed = await _task(db, "probed")
        with Probe(base, task.id) as idle:
            while len(idle.samples["/health"]) < 200:
                await asyncio.sleep(0.05)
        with Probe(base, task.id) as busy:
            took_probed, _ = await _materialise(db, probed.id, audience)
        checks, claims = await _per_send(db, task)
    finally:
        await db.dispose()
    c, k = summary(checks), summary(claims)
    print(f"\n[materialise] {N:,} contacts in one audience, PostgreSQL (seeded in {seeded:.1f} s)")
    print(f"  bare INSERT … SELECT (baseline)   {bare:7.2f} s")
    print(
        f"  materialise (EXISTS, ON CONFLICT, counters)  {took:7.2f} s  = {took / bare:.2f}x the bare insert"
    )
    print(f"  API while a second materialise runs ({took_probed:.1f} s), vs the same requests idle:")
    for path in idle.samples:
        i, b = summary(idle.samples[path]), summary(busy.samples[path])
        name = "GET /health" if path == "/health" else "GET /api/v1/tasks/{id}"
        print(
            f"  {name:24s} idle p95 {i['p95']:7.2f} ms | meanwhile p50 {b['p50']:7.2f} ms"
            f" p95 {b['p95']:7.2f} ms max {max(busy.samples[path]):7.1f} ms"
            f" ({len(busy.samples[path])} requests) = p95 {b['p95'] / i['p95']:.2f}x idle"
        )
    print(f"  {SENDS} sends, one transaction each:")
    print(f"  suppression check (baseline)     p50 {c['p50']:6.3f} ms  p99 {c['p99']:6.3f} ms")
    print(
        f"  frequency claim (policy + upsert) p50 {k['p50']:6.3f} ms  p99 {k['p99']:6.3f} ms"
        f"  = {k['p50'] / c['p50']:.2f}x the suppression check p50"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, temp_postgres() as url:
        runner.upgrade(url)
        with server({"INVITE_DATABASE_URL": url}, Path(tmp)) as base:
            asyncio.run(run(url, base))


if __name__ == "__main__":
    main()
