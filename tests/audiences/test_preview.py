"""The audience preview counts what start materialises (the same predicate), and how many of those
the send-time rules would skip now: suppressed, contacted recently, no consent."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from invite_service.stores import contact_marks
from invite_service.stores.suppressions import insert_many
from tests.api.conftest import api_client
from tests.audiences.test_policy_helpers import audience, count_targets, set_policy
from tests.execution.harness import Harness, make_harness

pytestmark = pytest.mark.asyncio
PREVIEW = "/api/v1/audiences/preview"


@pytest.fixture
async def h(db_url: str) -> AsyncIterator[Harness]:
    harness = await make_harness(db_url)
    yield harness
    await harness.rt.db.dispose()


@pytest.fixture
async def client(h: Harness) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(h) as c:
        yield c


async def test_preview_counts_equal_what_start_materialises(h: Harness, client: httpx.AsyncClient) -> None:
    await set_policy(h.rt.db, h.user, message=7, invite=None, consent=True)
    tag = uuid.uuid4().hex[:6]
    p = [f"v{tag}_{i}" for i in range(8)]
    # p0..p6 included; p5 excluded by audience (and tagged: counted once, by audience); p6 tagged "vip";
    # of the five left, p0 is suppressed, p1 was messaged an hour ago, p2 and p3 have consent.
    include, ids = await audience(h.rt.db, h.user, p[:7], tags={p[5]: ["vip"], p[6]: ["vip"]}, consent=p[2:4])
    exclude, _ = await audience(h.rt.db, h.user, [p[5], p[7]], contacts=ids)
    async with h.rt.db.session() as s:
        await insert_many(
            s,
            [
                {
                    "user_id": h.user,
                    "platform": "sandbox",
                    "kind": "username",
                    "key": p[0],
                    "reason": "opt_out",
                }
            ],
        )
        await contact_marks.claim(
            s,
            user_id=h.user,
            platform="sandbox",
            channel="message",
            person=f"username:{p[1]}",
            now=h.clock.now(),
            cooldown_days=7,
            task_id=uuid.uuid4(),
            target_id=1,
        )
    h.clock.advance(3600)
    selection = {"include": [str(include)], "exclude": [str(exclude)], "exclude_tags": ["VIP"]}
    asked = await client.post(
        PREVIEW, json={"platform": "sandbox", "action": "message", "audiences": selection}
    )
    assert asked.status_code == 200, asked.text
    expected = {
        "contacts": 7,
        "excluded_by_audience": 1,
        "excluded_by_tag": 1,
        "targets": 5,
        "suppressed": 1,
        "contacted_recently": 1,
        "no_consent": 3,
        "message_cooldown_days": 7,
        "invite_cooldown_days": None,
        "require_consent": True,
    }
    assert asked.json() == expected

    accounts = await h.accounts(1)
    created = await client.post(
        "/api/v1/tasks",
        json={
            "name": "preview",
            "platform": "sandbox",
            "action": "message",
            "message_template": "Hi",
            "account_ids": accounts,
            "audiences": selection,
        },
    )
    task_id = created.json()["id"]
    saved = await client.get(f"/api/v1/tasks/{task_id}/audience-preview")
    assert saved.json() == expected
    await h.control(uuid.UUID(task_id), "start")
    assert await count_targets(h.rt.db, uuid.UUID(task_id)) == expected["targets"]
    after = (await client.get(f"/api/v1/tasks/{task_id}/audience-preview")).json()
    assert after["targets"] == 0, "everyone drawn is in the task now"


async def test_a_task_override_shows_in_the_preview_and_a_looser_one_is_refused(
    h: Harness, client: httpx.AsyncClient
) -> None:
    aud, _ = await audience(h.rt.db, h.user, [f"w{uuid.uuid4().hex[:6]}"])
    body = {
        "platform": "sandbox",
        "action": "invite",
        "destination": "@chat",
        "audiences": {"include": [str(aud)]},
    }
    strict = await client.post(PREVIEW, json={**body, "contact_policy": {"require_consent": True}})
    assert strict.json()["require_consent"] is True and strict.json()["no_consent"] == 1
    await set_policy(h.rt.db, h.user, message=7, invite=30)
    looser = await client.post(PREVIEW, json={**body, "contact_policy": {"invite_cooldown_days": 1}})
    assert looser.status_code == 422
    assert [e["loc"] for e in looser.json()["errors"]] == [["body", "contact_policy", "invite_cooldown_days"]]


async def test_the_policy_api_reads_the_defaults_and_saves_a_policy(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/contacts/policy")).json() == {
        "message_cooldown_days": 7,
        "invite_cooldown_days": None,
        "require_consent": False,
    }
    saved = {"message_cooldown_days": 0, "invite_cooldown_days": 14, "require_consent": True}
    assert (await client.put("/api/v1/contacts/policy", json=saved)).json() == saved
    assert (await client.get("/api/v1/contacts/policy")).json() == saved
    bad = await client.put("/api/v1/contacts/policy", json={**saved, "message_cooldown_days": -1})
    assert bad.status_code == 422


async def test_another_users_audience_is_not_previewed(h: Harness, client: httpx.AsyncClient) -> None:
    theirs, _ = await audience(h.rt.db, f"other-{uuid.uuid4().hex[:8]}", [f"x{uuid.uuid4().hex[:6]}"])
    got = await client.post(PREVIEW, json={"platform": "sandbox", "audiences": {"include": [str(theirs)]}})
    assert got.status_code == 422
    assert [e["loc"] for e in got.json()["errors"]] == [["body", "audiences", "include", 0]]
