"""The contact policy in the engine: one person is contacted at most once per cooldown whatever the
number of tasks drawing them, consent is required when the policy says so, and a send the platform
refused gives the person back. Simulated time, a real database, the real simulated messenger."""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from invite_service.models.activity import RateLimitLedger
from invite_service.sandbox.model import TargetFate
from tests.api.conftest import api_client
from tests.audiences.test_policy_helpers import audience, set_policy, targets_of
from tests.execution.harness import Harness, make_harness, name_with

pytestmark = pytest.mark.asyncio
DONE = {"completed"}


@pytest.fixture
async def h(db_url: str) -> AsyncIterator[Harness]:
    harness = await make_harness(db_url)
    yield harness
    await harness.rt.db.dispose()


def people(fate: TargetFate, n: int) -> list[str]:
    tag = uuid.uuid4().hex[:6]
    return [name_with(fate, f"p{tag}{i}x") for i in range(n)]


async def message_task(h: Harness, account: str, audience_id: uuid.UUID, **extra: Any) -> uuid.UUID:
    return await h.task(
        0,
        [account],
        action="message",
        message_template="Hello {first_name}",
        audiences={"include": [str(audience_id)]},
        **extra,
    )


async def test_two_tasks_from_one_audience_message_each_person_once_in_seven_days(h: Harness) -> None:
    names = people(TargetFate.OK, 5)
    aud, _ = await audience(h.rt.db, h.user, names)
    first, second = await h.accounts(2)
    t1 = await message_task(h, first, aud)
    t2 = await message_task(h, second, aud)
    await h.control(t1, "start")  # no direct targets: the audience makes them at start
    await h.control(t2, "start")
    assert await h.run_until([t1, t2], DONE, timedelta(days=2))

    delivered = Counter(e.target for e in h.simulator.ledger(action="message"))
    assert delivered == Counter(names), "each person messaged exactly once across both tasks"
    outcomes = [*(await targets_of(h.rt.db, t1)).values(), *(await targets_of(h.rt.db, t2)).values()]
    assert Counter(o["status"] for o in outcomes) == {"messaged": 5, "skipped": 5}
    assert {o["error_code"] for o in outcomes if o["status"] == "skipped"} == {"CONTACTED_RECENTLY"}
    async with h.rt.db.session() as s:
        slots = await s.scalar(
            select(func.count()).where(
                RateLimitLedger.task_id.in_([t1, t2]), RateLimitLedger.action == "message"
            )
        )
    assert slots == 5, "a skipped person took no limiter slot (the claim rolled back with it)"

    # Eight days later the cap has passed: a third task reaches everyone again.
    h.clock.advance(timedelta(days=8).total_seconds())
    t3 = await message_task(h, first, aud)
    await h.control(t3, "start")
    assert await h.run_until([t3], DONE, timedelta(days=2))
    assert Counter(e.target for e in h.simulator.ledger(action="message")) == Counter(names * 2)


async def test_a_policy_with_no_cap_lets_both_tasks_message(h: Harness) -> None:
    await set_policy(h.rt.db, h.user, message=0, invite=0)
    names = people(TargetFate.OK, 2)
    aud, _ = await audience(h.rt.db, h.user, names)
    first, second = await h.accounts(2)
    t1, t2 = await message_task(h, first, aud), await message_task(h, second, aud)
    await h.control(t1, "start")
    await h.control(t2, "start")
    assert await h.run_until([t1, t2], DONE, timedelta(days=2))
    assert Counter(e.target for e in h.simulator.ledger(action="message")) == Counter(names * 2)


async def test_a_task_may_only_tighten_the_policy_and_its_override_applies(h: Harness) -> None:
    await set_policy(h.rt.db, h.user, message=0, invite=0)
    names = people(TargetFate.OK, 2)
    aud, _ = await audience(h.rt.db, h.user, names)
    first, second = await h.accounts(2)
    strict = {"contact_policy": {"message_cooldown_days": 30}}
    t1 = await message_task(h, first, aud, settings=strict)
    t2 = await message_task(h, second, aud, settings=strict)
    await h.control(t1, "start")
    await h.control(t2, "start")
    assert await h.run_until([t1, t2], DONE, timedelta(days=2))
    assert Counter(e.target for e in h.simulator.ledger(action="message")) == Counter(names)


async def test_consent_required_skips_exactly_the_contacts_without_it_and_the_report_says_why(
    h: Harness,
) -> None:
    await set_policy(h.rt.db, h.user, message=7, invite=None, consent=True)
    names = people(TargetFate.OK, 3)
    aud, _ = await audience(h.rt.db, h.user, names, consent=names[:1])
    (account,) = await h.accounts(1)
    task = await message_task(h, account, aud)
    await h.control(task, "start")
    assert await h.run_until([task], DONE, timedelta(days=2))

    assert [e.target for e in h.simulator.ledger(action="message")] == names[:1]
    got = await targets_of(h.rt.db, task)
    assert {k: (v["status"], v["error_code"]) for k, v in got.items()} == {
        names[0]: ("messaged", None),
        names[1]: ("skipped", "NO_CONSENT"),
        names[2]: ("skipped", "NO_CONSENT"),
    }
    async with api_client(h) as client:
        report = (await client.get(f"/api/v1/tasks/{task}/report")).json()
        assert {"NO_CONSENT": 2}.items() <= {e["error_code"]: e["count"] for e in report["errors"]}.items()
        rows = list(
            csv.DictReader(io.StringIO((await client.get(f"/api/v1/tasks/{task}/report?format=csv")).text))
        )
        skipped = [r for r in rows if r.get("status") == "skipped"]
        assert len(skipped) == 2
        assert all("consent" in r["reason"] for r in skipped), skipped


async def test_a_refused_invite_gives_the_person_back_a_delivered_one_holds_them(h: Harness) -> None:
    # The default policy: never invite one person to the same chat twice.
    ok, refused = people(TargetFate.OK, 1)[0], people(TargetFate.PRIVACY, 1)[0]
    aud, _ = await audience(h.rt.db, h.user, [ok, refused])
    first, second = await h.accounts(2)
    invite = {"action": "invite", "destination": "@policy_chat", "audiences": {"include": [str(aud)]}}
    t1 = await h.task(0, [first], **invite)
    await h.control(t1, "start")
    assert await h.run_until([t1], DONE, timedelta(days=2))
    t2 = await h.task(0, [second], **invite)
    await h.control(t2, "start")
    assert await h.run_until([t2], DONE, timedelta(days=2))

    calls = Counter(c.target for c in h.simulator.platform_calls(action="invite"))
    assert calls[ok] == 1, "invited once: the second task skips them"
    assert calls[refused] == 2, "refused by the platform: the second task may try"
    second_targets = await targets_of(h.rt.db, t2)
    assert (second_targets[ok]["status"], second_targets[ok]["error_code"]) == (
        "skipped",
        "CONTACTED_RECENTLY",
    )
    assert second_targets[refused]["status"] == "failed"
