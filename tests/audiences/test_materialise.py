"""Tasks that use audiences: the task fields (validation, storage, duplicate), and materialising the
audiences into targets at start in one INSERT … SELECT, with the counters to match."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from invite_service.execution import control
from invite_service.models import AudienceMember, Contact, TaskCounters
from invite_service.models.enums import TargetKind
from tests.api.conftest import api_client
from tests.audiences.test_policy_helpers import audience, count_targets, set_policy, targets_of
from tests.execution.harness import Harness, make_harness

pytestmark = pytest.mark.asyncio
TASKS = "/api/v1/tasks"


@pytest.fixture
async def h(db_url: str) -> AsyncIterator[Harness]:
    harness = await make_harness(db_url)
    yield harness
    await harness.rt.db.dispose()


@pytest.fixture
async def client(h: Harness) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(h) as c:
        yield c


def names(n: int, prefix: str = "m") -> list[str]:
    tag = uuid.uuid4().hex[:6]
    return [f"{prefix}{tag}_{i}" for i in range(n)]


async def create(client: httpx.AsyncClient, accounts: list[str], **fields: Any) -> httpx.Response:
    body = {
        "name": "audience task",
        "platform": "sandbox",
        "action": "message",
        "message_template": "Hi {first_name} from {city}",
        "account_ids": accounts,
        **fields,
    }
    return await client.post(TASKS, json=body)


def error_locs(response: httpx.Response) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    return [e["loc"] for e in response.json()["errors"]]


async def test_a_task_keeps_its_audiences_and_a_duplicate_copies_them(
    h: Harness, client: httpx.AsyncClient
) -> None:
    accounts = await h.accounts(1)
    inc, _ = await audience(h.rt.db, h.user, names(2))
    exc, _ = await audience(h.rt.db, h.user, names(1))
    selection = {
        "include": [str(inc)],
        "exclude": [str(exc)],
        "exclude_tags": [" VIP "],
        "include_new_contacts": True,
    }
    created = await create(client, accounts, audiences=selection)
    assert created.status_code == 201, created.text
    expected = {**selection, "exclude_tags": ["vip"]}
    assert created.json()["audiences"] == expected
    task_id = created.json()["id"]
    assert (await client.get(f"{TASKS}/{task_id}")).json()["audiences"] == expected
    listed = (await client.get(TASKS, params={"limit": 100})).json()["items"]
    assert next(t for t in listed if t["id"] == task_id)["audiences"] == expected

    copy = await client.post(f"{TASKS}/{task_id}/duplicate", json={})
    assert copy.status_code == 201, copy.text
    assert copy.json()["audiences"] == expected

    # Settings saved later keep the audience rules; a null selection drops the audiences.
    kept = await client.put(f"{TASKS}/{task_id}", json={"settings": {"max_attempts": 2}})
    assert kept.json()["audiences"] == expected, kept.text
    dropped = await client.put(f"{TASKS}/{task_id}", json={"audiences": None})
    assert dropped.json()["audiences"] is None


async def test_audiences_of_another_user_or_platform_and_bad_selections_are_422(
    h: Harness, client: httpx.AsyncClient
) -> None:
    accounts = await h.accounts(1)
    mine, _ = await audience(h.rt.db, h.user, names(1))
    theirs, _ = await audience(h.rt.db, f"other-{uuid.uuid4().hex[:8]}", names(1))
    telegram, _ = await audience(h.rt.db, h.user, names(1), platform="telegram")

    bad = await create(client, accounts, audiences={"include": [str(mine), str(theirs)]})
    assert error_locs(bad) == [["body", "audiences", "include", 1]]
    other_platform = await create(
        client, accounts, audiences={"include": [str(mine)], "exclude": [str(telegram)]}
    )
    assert error_locs(other_platform) == [["body", "audiences", "exclude", 0]]
    both = await create(client, accounts, audiences={"include": [str(mine)], "exclude": [str(mine)]})
    assert error_locs(both) == [["body", "audiences"]]
    empty = await create(client, accounts, audiences={"include": []})
    assert error_locs(empty) == [["body", "audiences", "include"]]


async def test_a_task_policy_may_only_be_stricter(h: Harness, client: httpx.AsyncClient) -> None:
    accounts = await h.accounts(1)
    await set_policy(h.rt.db, h.user, message=7, invite=30, consent=True)
    looser = {"message_cooldown_days": 3, "invite_cooldown_days": 0, "require_consent": False}
    refused = await create(client, accounts, settings={"contact_policy": looser})
    assert sorted(error_locs(refused)) == [
        ["body", "settings", "contact_policy", name]
        for name in ("invite_cooldown_days", "message_cooldown_days", "require_consent")
    ]
    stricter = {"message_cooldown_days": 14, "invite_cooldown_days": 60, "require_consent": True}
    ok = await create(client, accounts, settings={"contact_policy": stricter})
    assert ok.status_code == 201, ok.text
    assert ok.json()["settings"]["contact_policy"] == stricter


async def test_start_materialises_the_audiences_minus_excluded_audiences_and_tags(
    h: Harness, client: httpx.AsyncClient
) -> None:
    await set_policy(h.rt.db, h.user, message=0, invite=0)
    accounts = await h.accounts(1)
    people = names(6)
    a, ids = await audience(h.rt.db, h.user, people[:4], tags={people[1]: ["vip"]})
    b, ids = await audience(h.rt.db, h.user, people[2:], contacts=ids)  # people[2], [3] in both
    excluded, _ = await audience(h.rt.db, h.user, [people[5]], contacts=ids)
    task = await create(
        client,
        accounts,
        audiences={"include": [str(a), str(b)], "exclude": [str(excluded)], "exclude_tags": ["vip"]},
    )
    task_id = uuid.UUID(task.json()["id"])
    # One direct target who is also in the audience: materialising leaves them as they are.
    added = await client.post(f"{TASKS}/{task_id}/targets/bulk", json={"targets": [{"username": people[0]}]})
    assert added.status_code in (200, 201), added.text

    await h.control(task_id, "start")
    got = await targets_of(h.rt.db, task_id)
    assert set(got) == {people[0], people[2], people[3], people[4]}
    assert got[people[0]]["source"] != "audience"
    for name in (people[2], people[3], people[4]):
        assert got[name]["contact_id"] == ids[name]
        assert got[name]["extra"] == {"city": "Tver"}
        assert got[name]["source"] == "audience"
    async with h.rt.db.session() as s:
        counters = await s.get(TaskCounters, task_id)
        assert counters is not None
        assert (counters.total, counters.kind_username) == (4, 4)
        assert counters.pending + counters.reserved + counters.sending == 4


async def test_resume_takes_in_new_contacts_only_when_the_task_asks(
    h: Harness, client: httpx.AsyncClient
) -> None:
    await set_policy(h.rt.db, h.user, message=0, invite=0)
    accounts = await h.accounts(1)
    people = names(3)
    aud, _ = await audience(h.rt.db, h.user, people[:1])
    new = await create(client, accounts, audiences={"include": [str(aud)], "include_new_contacts": True})
    fixed = await create(client, accounts, audiences={"include": [str(aud)]})
    new_id, fixed_id = uuid.UUID(new.json()["id"]), uuid.UUID(fixed.json()["id"])
    for task_id in (new_id, fixed_id):
        await h.control(task_id, "start")
        await h.control(task_id, "pause")
    # Two more people join the audience while the tasks are paused.
    async with h.rt.db.session() as s:
        for name in people[1:]:
            contact = Contact(
                user_id=h.user,
                platform="sandbox",
                kind=TargetKind.USERNAME,
                key=name,
                username=name,
                fields={},
            )
            s.add(contact)
            await s.flush()
            s.add(AudienceMember(audience_id=aud, contact_id=contact.id))
    for task_id in (new_id, fixed_id):
        await h.control(task_id, "resume")
    assert await count_targets(h.rt.db, new_id) == 3
    assert await count_targets(h.rt.db, fixed_id) == 1


async def test_a_task_with_audiences_and_no_contacts_cannot_start(
    h: Harness, client: httpx.AsyncClient
) -> None:
    accounts = await h.accounts(1)
    aud, _ = await audience(h.rt.db, h.user, [])
    task = await create(client, accounts, audiences={"include": [str(aud)]})
    started = await client.post(f"{TASKS}/{task.json()['id']}/start")
    assert started.status_code == 422, started.text
    assert ["task", "targets"] in [e["loc"] for e in started.json()["errors"]]


async def test_a_scheduled_task_takes_in_the_contacts_added_while_it_waited(
    h: Harness, client: httpx.AsyncClient
) -> None:
    accounts = await h.accounts(1)
    people = names(2)
    aud, _ = await audience(h.rt.db, h.user, people[:1])
    later = (h.clock.now() + timedelta(hours=1)).isoformat()
    task = await create(client, accounts, audiences={"include": [str(aud)]}, scheduled_at=later)
    task_id = uuid.UUID(task.json()["id"])
    await h.control(task_id, "start")
    assert await h.status(task_id) == "scheduled"
    assert await count_targets(h.rt.db, task_id) == 1
    async with h.rt.db.session() as s:
        contact = Contact(
            user_id=h.user, platform="sandbox", kind=TargetKind.USERNAME, key=people[1], fields={}
        )
        s.add(contact)
        await s.flush()
        s.add(AudienceMember(audience_id=aud, contact_id=contact.id))
    h.clock.advance(3601)
    async with h.rt.db.session() as s:
        await control.start_scheduled(s, h.rt, task_id, h.clock.now())
    assert await h.status(task_id) == "running"
    assert await count_targets(h.rt.db, task_id) == 2
