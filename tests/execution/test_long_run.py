"""A simulated 3-day run at Telegram's caps: no window breached, and the allowed capacity used."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from invite_service.config import DEFAULT_PLATFORM_CAPS, Settings
from invite_service.models import RateLimitLedger
from invite_service.sandbox.adapter import simulator_limits
from invite_service.sandbox.integration_state import demo_config
from invite_service.workers.stepped import simulate
from tests.execution.harness import make_harness

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
ACCOUNTS, DAYS = 10, 3


async def test_three_days_ten_accounts_at_telegram_caps(db_url: str) -> None:
    telegram = DEFAULT_PLATFORM_CAPS["telegram"]
    # The sandbox platform with Telegram's caps: 5 invites an hour, 50 a day, 30 s apart.
    settings = Settings(database_url=db_url, log_level="WARNING", platform_caps={"sandbox": telegram})
    h = await make_harness(db_url, settings=settings, config=demo_config(11, simulator_limits(telegram)))
    try:
        accounts = await h.accounts(ACCOUNTS)
        if len(accounts) < ACCOUNTS:
            for n in range(len(accounts) + 1, ACCOUNTS + 1):
                h.simulator.add_account(f"sb-{h.user}-{n}", h.user, f"extra-{n}", "sandbox")
            accounts = [a.id for a in await h.adapter.initialize_accounts(h.user)][:ACCOUNTS]
        allowed = ACCOUNTS * telegram.invites_per_day * DAYS  # type: ignore[operator]
        task_id = await h.task(allowed + 300, accounts)
        start = h.clock.now()
        await h.control(task_id, "start")

        async def never() -> bool:
            return False

        await simulate(
            h.rt,
            h.clock,
            h.queue,
            until=never,
            horizon=timedelta(days=DAYS) - timedelta(seconds=1),
            recover_every=timedelta(hours=6),
        )
        async with h.rt.db.session() as s:
            used = await s.scalar(
                select(func.count())
                .select_from(RateLimitLedger)
                .where(
                    RateLimitLedger.account_id.in_(accounts),
                    RateLimitLedger.at < start + timedelta(days=DAYS),
                )
            )
        breaches = h.simulator.window_breaches(simulator_limits(telegram))
        restricted = [a for a in accounts if (await h.simulator.account_status(a)).state == "restricted"]
        print(
            f"\n3-day run: {used} of {allowed} allowed actions used ({100 * used / allowed:.2f} %), "
            f"{len(breaches)} breaches, {len(restricted)} restricted accounts"
        )
        assert breaches == []
        assert restricted == []
        assert used >= 0.99 * allowed, f"only {used} of {allowed} allowed actions were used"
        assert used <= allowed
    finally:
        await h.rt.db.dispose()
