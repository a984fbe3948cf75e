"""An opt-out entry without a platform applies to every platform: the engine skips that person on the
sandbox and on Telegram, while an entry for one platform leaves the others alone. Entries added by the
web UI say so (source "ui"), and the list shows every platform's entries by default."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from invite_service.models import InviteTarget
from invite_service.models.enums import Platform
from invite_service.sandbox.adapter import SandboxAdapter
from invite_service.stores.suppressions import suppressed_among
from tests.api.conftest import api_client
from tests.execution.harness import Harness, make_harness

pytestmark = pytest.mark.asyncio
URL = "/api/v1/suppressions"


@pytest.fixture
async def h(db_url: str) -> AsyncIterator[Harness]:
    harness = await make_harness(db_url)
    # Telegram served by the same simulator on the same simulated clock (its accounts are distinct).
    harness.rt.adapters.provide(
        Platform.TELEGRAM.value, SandboxAdapter(harness.simulator, platform=Platform.TELEGRAM)
    )
    yield harness
    await harness.rt.db.dispose()


async def suppressed(h: Harness, task_id: object) -> set[str]:
    async with h.rt.db.session() as s:
        rows = await s.scalars(
            select(InviteTarget.username).where(
                InviteTarget.task_id == task_id, InviteTarget.error_code == "suppressed"
            )
        )
        return {str(name) for name in rows}


async def test_an_entry_for_every_platform_blocks_sends_on_sandbox_and_telegram(h: Harness) -> None:
    # The targets are in the tasks before the entries exist: the check right before each send stops them.
    sandbox_accounts = await h.accounts(2)
    telegram_accounts = [
        a.id for a in await h.rt.adapters.get(Platform.TELEGRAM.value).initialize_accounts(h.user)
    ][:2]
    names = ["everywhere_no", "sandbox_only_no", *(f"reachable_{i:03d}" for i in range(6))]
    on_sandbox = await h.task(0, sandbox_accounts, usernames=names)
    on_telegram = await h.task(0, telegram_accounts, usernames=names, platform="telegram")
    async with api_client(h) as api:
        everywhere = await api.post(
            URL, json={"username": "@everywhere_no", "reason": "opt_out", "source": "ui"}
        )
        assert everywhere.status_code == 201, everywhere.text
        entry = everywhere.json()
        assert (entry["platform"], entry["source"], entry["key"]) == (None, "ui", "everywhere_no")
        only_sandbox = await api.post(
            URL, json={"username": "sandbox_only_no", "reason": "opt_out", "platform": "sandbox"}
        )
        assert only_sandbox.json()["platform"] == "sandbox"
        assert only_sandbox.json()["source"] == "api"  # the default for clients that do not say
        # Both show without a platform filter; a platform filter shows what applies to it.
        listed = (await api.get(URL)).json()
        assert {e["key"] for e in listed["items"]} == {"everywhere_no", "sandbox_only_no"}
        for_telegram = (await api.get(URL, params={"platform": "telegram"})).json()
        assert [e["key"] for e in for_telegram["items"]] == ["everywhere_no"]
        bad = await api.post(URL, json={"username": "someone", "reason": "opt_out", "source": "robot"})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["loc"] == ["body", "source"]

    await h.control(on_sandbox, "start")
    await h.control(on_telegram, "start")
    assert await h.run_until([on_sandbox, on_telegram], {"completed"}, timedelta(hours=6))

    sent = {(e.account_id, e.target) for e in h.simulator.ledger()}
    sandbox_sent = {target for account, target in sent if account in sandbox_accounts}
    telegram_sent = {target for account, target in sent if account in telegram_accounts}
    assert "everywhere_no" not in sandbox_sent | telegram_sent
    assert "sandbox_only_no" not in sandbox_sent
    assert "sandbox_only_no" in telegram_sent, "an entry for the sandbox does not hold on Telegram"
    assert await suppressed(h, on_sandbox) == {"everywhere_no", "sandbox_only_no"}
    assert await suppressed(h, on_telegram) == {"everywhere_no"}
    # The import path asks the same question (suppressed_among): an all-platform entry answers for each.
    async with h.rt.db.session() as s:
        for platform in ("telegram", "sandbox"):
            hits = await suppressed_among(
                s, h.user, platform, {"username": {"everywhere_no", "reachable_000"}}
            )
            assert hits == {("username", "everywhere_no"): "opt_out"}
