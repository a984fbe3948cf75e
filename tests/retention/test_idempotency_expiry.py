"""An Idempotency-Key replays its first answer for 24 h; after that the same key is a fresh request, whether
or not the retention sweep has deleted the old row yet."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from invite_service.db import Database
from invite_service.kit.clock import utcnow
from invite_service.models import IdempotencyKey
from tests.invite_tasks.test_endpoints import invite_task
from tests.retention.conftest import Api


async def age_key(db: Database, key: str, hours: float) -> None:
    async with db.session() as session:
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.key == key)
            .values(created_at=utcnow() - timedelta(hours=hours))
        )


async def test_a_replay_before_expiry_is_the_stored_answer_after_it_a_new_task(
    api: Api,
) -> None:
    client, db, auth, _user = api
    headers = {**auth, "Idempotency-Key": "create-once"}
    first = await client.post("/api/v1/tasks", json=invite_task(), headers=headers)
    assert first.status_code == 201, first.text

    await age_key(db, "create-once", 23.5)
    replay = await client.post("/api/v1/tasks", json=invite_task(), headers=headers)
    assert replay.status_code == 201
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json()["id"] == first.json()["id"]

    # Past 24 h and not yet swept: the row is still there, but the key no longer replays.
    await age_key(db, "create-once", 24.5)
    fresh = await client.post("/api/v1/tasks", json=invite_task(), headers=headers)
    assert fresh.status_code == 201
    assert "Idempotent-Replayed" not in fresh.headers
    assert fresh.json()["id"] != first.json()["id"]
    # The key now stands for the new task, and replays it.
    again = await client.post("/api/v1/tasks", json=invite_task(), headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["id"] == fresh.json()["id"]
    listed = (await client.get("/api/v1/tasks", headers=auth)).json()
    assert listed["total"] == 2
    async with db.session() as session:
        assert len((await session.scalars(select(IdempotencyKey))).all()) == 1


async def test_an_expired_key_with_another_body_is_a_fresh_request_not_a_conflict(
    api: Api,
) -> None:
    client, db, auth, _user = api
    headers = {**auth, "Idempotency-Key": "reused"}
    first = await client.post("/api/v1/tasks", json=invite_task(), headers=headers)
    assert first.status_code == 201
    other = await client.post("/api/v1/tasks", json=invite_task(name="Other"), headers=headers)
    assert other.status_code == 422  # within 24 h another body under the key is refused
    await age_key(db, "reused", 25)
    later = await client.post("/api/v1/tasks", json=invite_task(name="Other"), headers=headers)
    assert later.status_code == 201
    assert later.json()["name"] == "Other"
