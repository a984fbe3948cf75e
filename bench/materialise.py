"""`python -m bench.materialise`: materialising an audience of 1,000,000 contacts into a task on
PostgreSQL, as a ratio to a bare ``INSERT … SELECT`` of the same rows into invite_targets in the same
run; and the contact policy's frequency claim per send, as a ratio to the suppression check alone.

``INVITE_BENCH_CONTACTS`` sets the audience size (default 1,000,000)."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

from sqlalchemy import text

from bench.common import summary, temp_postgres
from invite_service.audiences import policy as contact_policy
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


async def run(pg_url: str) -> None:
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
        checks, claims = await _per_send(db, task)
    finally:
        await db.dispose()
    c, k = summary(checks), summary(claims)
    print(f"\n[materialise] {N:,} contacts in one audience, PostgreSQL (seeded in {seeded:.1f} s)")
    print(f"  bare INSERT … SELECT (baseline)   {bare:7.2f} s")
    print(
        f"  materialise (EXISTS, ON CONFLICT, counters)  {took:7.2f} s  = {took / bare:.2f}x the bare insert"
    )
    print(f"  {SENDS} sends, one transaction each:")
    print(f"  suppression check (baseline)     p50 {c['p50']:6.3f} ms  p99 {c['p99']:6.3f} ms")
    print(
        f"  frequency claim (policy + upsert) p50 {k['p50']:6.3f} ms  p99 {k['p99']:6.3f} ms"
        f"  = {k['p50'] / c['p50']:.2f}x the suppression check p50"
    )


def main() -> None:
    with temp_postgres() as url:
        asyncio.run(run(url))


if __name__ == "__main__":
    main()
