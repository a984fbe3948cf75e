"""Two tasks drawing one audience, running at the same time on the production shape (two Celery
workers and beat over RabbitMQ and Redis, PostgreSQL, the sandbox Integration Service over HTTP): the
contact policy's claim keeps every person to one message, whichever worker gets there first."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest

from invite_service.db import Database
from invite_service.kit.clock import utcnow
from invite_service.models import Audience, AudienceMember, Contact
from invite_service.models.enums import TargetKind
from invite_service.sandbox.model import TargetFate, canonical_key
from tests.production.conftest import ApiFactory
from tests.production.stack import Stack, running_stack
from tests.production.test_never_twice_celery import name_with

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
PEOPLE = 8


@pytest.fixture(scope="module")
def stack(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(postgres_url, tmp_path_factory.mktemp("audience")) as stack:
        stack.start_worker(concurrency=1, name="worker-a")
        stack.start_worker(concurrency=1, name="worker-b")
        stack.start_beat()
        yield stack


async def seed_audience(url: str, user: str, names: list[str]) -> uuid.UUID:
    db = Database(url, pool_size=1)
    try:
        async with db.session() as s:
            audience = Audience(id=uuid.uuid4(), user_id=user, platform="telegram", name="celery audience")
            s.add(audience)
            for name in names:
                contact = Contact(
                    user_id=user,
                    platform="telegram",
                    kind=TargetKind.USERNAME,
                    key=name,
                    username=name,
                    fields={},
                )
                s.add(contact)
                await s.flush()
                s.add(AudienceMember(audience_id=audience.id, contact_id=contact.id, added_at=utcnow()))
        return audience.id
    finally:
        await db.dispose()


async def test_two_tasks_from_one_audience_at_once_message_no_person_twice(
    stack: Stack, api_for: ApiFactory, postgres_url: str
) -> None:
    api = await api_for(stack)
    tag = uuid.uuid4().hex[:5]
    names = [name_with(TargetFate.OK, f"aud{tag}{i}n") for i in range(PEOPLE)]
    audience = await seed_audience(postgres_url, api.user, names)
    accounts = [a["id"] for a in await api.accounts()]
    half = len(accounts) // 2
    tasks = []
    for lanes in (
        accounts[:half],
        accounts[half:],
    ):  # separate accounts: the two tasks truly run side by side
        body = {
            "name": "audience at once",
            "platform": "telegram",
            "action": "message",
            "message_template": "Hello",
            "account_ids": lanes,
            "audiences": {"include": [str(audience)]},
        }
        tasks.append(str((await api.call("POST", "/tasks", json=body))["id"]))
    await asyncio.gather(*(api.start(t) for t in tasks))
    for t in tasks:
        await api.wait(t, "completed", timeout=300)

    report = dict(await asyncio.to_thread(stack.admin, "GET", "/ledger"))
    keys = {canonical_key(n) for n in names}
    delivered = Counter(
        e["target"] for e in report["entries"] if e["action"] == "message" and e["target"] in keys
    )
    assert delivered == Counter(keys), "each person messaged exactly once across both tasks"
    states = [await api.states(t) for t in tasks]
    assert sum(s.get("messaged", 0) for s in states) == PEOPLE
    assert sum(s.get("skipped", 0) for s in states) == PEOPLE
    for t in tasks:
        page = await api.call("GET", f"/tasks/{t}/targets", params={"limit": 200})
        skipped = {row["error_code"] for row in page["items"] if row["status"] == "skipped"}
        assert skipped <= {"CONTACTED_RECENTLY"}, skipped
