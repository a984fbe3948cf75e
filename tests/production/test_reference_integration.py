"""The whole product on the reference Integration Service (issue 13): real Celery workers and beat on
RabbitMQ, Redis and PostgreSQL, the Invite API as its own process, and ``integration_service`` over real
HTTP with Telegram replaced at the Telethon client boundary (``FakeTelegram``: real TL objects, real
``telethon.errors``).

A message task completes; two people reply; the one who wrote "СТОП" is suppressed and a second task to
the same audience never writes to them again. Every message is counted where Telegram would count it: in
the fake's own record of ``messages.sendMessage`` calls.
"""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.integration_service.fake_telegram import World
from tests.integration_service.server import IntegrationServer
from tests.production.api import Api
from tests.production.stack import SECRET, running_stack, user_headers

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
PEOPLE = 20
ACCOUNTS = {"ref-acc-a": 1, "ref-acc-b": 2}
OPT_OUT, THANKS = 4, 7  # the people (by index) who reply


def world() -> World:
    world = World()
    for account, me in ACCOUNTS.items():
        world.user(me, f"{account.replace('-', '_')}_self")
    world.chat(500, "prod_chat", channel=True)
    for i in range(PEOPLE):
        world.user(100 + i, f"ref_{i:05d}")
    return world


async def test_a_task_runs_replies_arrive_and_stop_is_obeyed(postgres_url: str, tmp_path: Path) -> None:
    user = f"ref-{uuid.uuid4().hex[:8]}"
    api_port = free_port()
    telegram = world()
    integration = IntegrationServer(
        f"sqlite+aiosqlite:///{tmp_path / 'integration.db'}",
        tmp_path,
        telegram,
        SECRET,
        events_url=f"http://127.0.0.1:{api_port}/api/v1/integration/events",
    )
    for account, me in ACCOUNTS.items():
        integration.add_account(account, user, me)
    integration.start()
    try:
        with running_stack(postgres_url, tmp_path, integration_url=integration.url) as stack:
            base = stack.start_api(api_port)
            stack.start_worker(concurrency=2)
            stack.start_beat()
            async with httpx.AsyncClient(base_url=base, timeout=60) as http:
                api = Api(stack, http)
                api.user, api.h = user, user_headers(stack.settings(), user)
                template = {"action": "message", "message_template": "Hello! Reply STOP to opt out."}
                first = await api.task(PEOPLE, prefix="ref", **template)
                await api.start(first)
                await api.wait(first, "completed", timeout=300)
                assert await api.states(first) == {"messaged": PEOPLE}
                sent = Counter(peer for _sender, peer, _text in telegram.messages)
                assert sent == Counter({100 + i: 1 for i in range(PEOPLE)})

                # Each person answers the account that wrote to them.
                wrote = {peer: sender for sender, peer, _text in telegram.messages}
                account_of = {me: account for account, me in ACCOUNTS.items()}
                for person, text in ((THANKS, "Спасибо, интересно!"), (OPT_OUT, "СТОП")):
                    integration.deliver(account_of[wrote[100 + person]], 100 + person, text)

                async def both_replies() -> bool:
                    return int((await api.call("GET", f"/tasks/{first}/status"))["replied"]) == 2

                await api.until(both_replies, 60, "two replies recorded")
                suppressed = await api.call("GET", "/suppressions")
                # Every identity the reply came with: the username and Telegram's own id.
                assert sorted((s["kind"], s["key"], s["reason"]) for s in suppressed["items"]) == [
                    ("user_id", str(100 + OPT_OUT), "reply_opt_out"),
                    ("username", f"ref_{OPT_OUT:05d}", "reply_opt_out"),
                ]

                # Only the opt-out may hold the second task back here, so the contact policy's default
                # once-a-week message cap (issue 16) is turned off for this user.
                policy = {"message_cooldown_days": 0, "invite_cooldown_days": None, "require_consent": False}
                assert await api.call("PUT", "/contacts/policy", json=policy) == policy
                second = await api.task(PEOPLE, prefix="ref", **template)
                await api.start(second)
                await api.wait(second, "completed", timeout=300)
                assert await api.states(second) == {"messaged": PEOPLE - 1, "skipped": 1}
                sent = Counter(peer for _sender, peer, _text in telegram.messages)
                assert sent[100 + OPT_OUT] == 1, "the person who wrote СТОП was written to again"
                assert sent == Counter({100 + i: 1 if i == OPT_OUT else 2 for i in range(PEOPLE)})
    finally:
        integration.stop()
