"""The frequency claim is a lock with no read-then-write gap: two claims of one person interleaved
from two tasks, one wins; on PostgreSQL over two concurrent connections, the second waiting for the
first to commit and then seeing its row."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from invite_service.db import Database
from invite_service.models import ContactMark
from invite_service.stores import contact_marks

pytestmark = pytest.mark.asyncio
NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url, pool_size=5)
    yield database
    await database.dispose()


def claim_args(user: str, task: uuid.UUID, target: int, now: datetime = NOW, days: int | None = 7) -> dict:  # type: ignore[type-arg]
    return {
        "user_id": user,
        "platform": "sandbox",
        "channel": "message",
        "person": "username:alice",
        "now": now,
        "cooldown_days": days,
        "task_id": task,
        "target_id": target,
    }


async def claim_committed(db: Database, **args: object) -> bool:
    async with db.session() as s:
        return await contact_marks.claim(s, **args)  # type: ignore[arg-type]


async def waiting_on_a_lock(db: Database) -> bool:
    async with db.session() as s:
        n = await s.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
        return bool(n)


async def test_two_claims_interleaved_from_two_tasks_exactly_one_wins(db: Database, db_url: str) -> None:
    user = f"race-{uuid.uuid4().hex[:8]}"
    first, second = uuid.uuid4(), uuid.uuid4()
    async with db.sessionmaker() as a:
        assert await contact_marks.claim(a, **claim_args(user, first, 1))  # not committed yet
        rival = asyncio.create_task(claim_committed(db, **claim_args(user, second, 2)))
        if db_url.startswith("postgresql"):
            # The rival's upsert hits the uncommitted row and waits for this transaction.
            async with asyncio.timeout(10):
                while not await waiting_on_a_lock(db):
                    await asyncio.sleep(0.01)
            assert not rival.done()
        await a.commit()
    assert await rival is False, "the second claim sees the first one's committed row"
    async with db.session() as s:
        mark = (await s.scalars(select(ContactMark).where(ContactMark.user_id == user))).one()
        assert (mark.task_id, mark.target_id, mark.last_at) == (first, 1, NOW)


async def test_many_concurrent_claims_of_one_person_one_wins(db: Database) -> None:
    user = f"race-{uuid.uuid4().hex[:8]}"
    results = await asyncio.gather(
        *(claim_committed(db, **claim_args(user, uuid.uuid4(), i)) for i in range(8))
    )
    assert sorted(results) == [False] * 7 + [True]


async def test_a_retry_of_the_same_target_passes_and_a_release_restores_the_previous_contact(
    db: Database,
) -> None:
    user = f"race-{uuid.uuid4().hex[:8]}"
    old_task, task = uuid.uuid4(), uuid.uuid4()
    eight_days_ago = NOW - timedelta(days=8)
    assert await claim_committed(db, **claim_args(user, old_task, 1, eight_days_ago))
    assert await claim_committed(db, **claim_args(user, task, 2))  # the old contact is past the cooldown
    assert await claim_committed(db, **claim_args(user, task, 2, NOW + timedelta(minutes=5)))  # its retry
    assert not await claim_committed(db, **claim_args(user, uuid.uuid4(), 3, NOW + timedelta(days=1)))
    async with db.session() as s:
        await contact_marks.release(s, task, 2)  # the platform refused: back to the contact before
    async with db.session() as s:
        mark = (await s.scalars(select(ContactMark).where(ContactMark.user_id == user))).one()
        assert (mark.last_at, mark.previous_at) == (eight_days_ago, None)
    assert await claim_committed(db, **claim_args(user, uuid.uuid4(), 3, NOW + timedelta(days=1)))


async def test_never_means_never_and_zero_means_no_cap(db: Database) -> None:
    user = f"race-{uuid.uuid4().hex[:8]}"
    assert await claim_committed(db, **claim_args(user, uuid.uuid4(), 1, days=None))
    later = NOW + timedelta(days=3650)
    assert not await claim_committed(db, **claim_args(user, uuid.uuid4(), 2, later, days=None))
    assert await claim_committed(db, **claim_args(user, uuid.uuid4(), 3, later, days=0))
