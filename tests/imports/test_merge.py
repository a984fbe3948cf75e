"""The merge on PostgreSQL: a plain INSERT of what the task lacks, ON CONFLICT only when a race needs it."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx
import pytest
from sqlalchemy import insert, select, text

from invite_service.db import Database
from invite_service.imports import staging_repository as staging
from invite_service.imports.convert import Staged
from invite_service.kit.clock import utcnow
from invite_service.models import InviteTarget
from tests.imports.conftest import new_task

pytestmark = pytest.mark.asyncio


def staged(row: int, name: str, first_name: str) -> Staged:
    return (row, "username", name, name, None, None, first_name, None, "{}")


async def _blocked_on_a_lock(database: Database) -> None:
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO invite_targets%'"
    )
    async with asyncio.timeout(30):
        while True:
            async with database.session() as s:
                if await s.scalar(waiting):
                    return
            await asyncio.sleep(0.02)


async def test_an_identity_added_while_the_merge_runs_is_skipped_not_an_error(  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient, new_user, database: Database, db_url: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the race is PostgreSQL's: SQLite has one writer at a time")
    h = new_user()
    task_id = uuid.UUID(await new_task(client, h))
    user = h["X-Test-User"]
    async with staging.open_stage(database, uuid.uuid4()) as stage:
        await stage.add(
            [staged(2, "race_me", "File"), staged(3, "fresh_one", "File"), staged(4, "race_me", "Again")]
        )
        async with database.engine.connect() as other:
            # Another writer adds race_me and has not committed: the merge's INSERT waits on its key.
            now = utcnow()
            await other.execute(
                insert(InviteTarget).values(
                    task_id=task_id, user_id=user, kind="username", key="race_me", username="race_me",
                    first_name="Other", extra={}, source="api", status="pending", attempts=0,
                    created_at=now, updated_at=now,
                )
            )  # fmt: skip

            async def merge() -> Counter[str]:
                async with stage.transaction() as session:
                    return await staging.insert_targets(
                        session, stage.table, task_id=task_id, user_id=user, source="file", now=utcnow()
                    )

            merging = asyncio.create_task(merge())
            await _blocked_on_a_lock(database)
            await other.commit()  # its snapshot did not see race_me; the unique key does
            assert await merging == Counter({"username": 1})
    async with database.session() as s:
        rows = await s.execute(
            select(InviteTarget.key, InviteTarget.first_name, InviteTarget.source)
            .where(InviteTarget.task_id == task_id)
            .order_by(InviteTarget.key)
        )
        assert rows.all() == [("fresh_one", "File", "file"), ("race_me", "Other", "api")]


async def test_the_merge_sorts_a_large_staging_in_memory(database: Database, db_url: str) -> None:
    # A plan read, not a timing: at PostgreSQL's default work_mem (4 MB) the merge's sorts of 100k
    # staged rows spill to disk ("external merge"); the merge transaction's own work_mem keeps them in
    # memory ("quicksort").
    if not db_url.startswith("postgresql"):
        pytest.skip("work_mem is PostgreSQL's")
    rows = [staged(i + 2, f"sorted_user_{(i * 7919) % 100_000:06d}", f"Name {i}") for i in range(100_000)]
    async with staging.open_stage(database, uuid.uuid4()) as stage:
        await stage.add(rows)
        ranked = select(staging._ranked(stage.table))  # the merge's own window sort
        sql = str(ranked.compile(dialect=database.engine.dialect, compile_kwargs={"literal_binds": True}))
        async with stage.transaction() as session:
            await session.execute(text(f"ANALYZE {stage.table.name}"))
            plan = "\n".join((await session.execute(text("EXPLAIN (ANALYZE, COSTS OFF) " + sql))).scalars())
    assert "Sort Method: quicksort" in plan, plan
    assert "external" not in plan, plan
