"""The in-process sandbox adapter: demo accounts, the same mapping as the Telegram adapter (checked by
running both on twin simulators), pushback above the caps, and the factory's wiring by settings."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

import httpx
import pytest

from invite_service.adapters.base import AccountStatus, InvitePlatformAdapter, Outcome, TargetRef
from invite_service.adapters.registry import AdapterRegistry, UnknownPlatformError
from invite_service.adapters.telegram import IntegrationClient
from invite_service.adapters.telegram.adapter import TelegramAdapter
from invite_service.config import Settings
from invite_service.kit.clock import SimulatedClock
from invite_service.models.enums import Platform, TargetKind
from invite_service.runtime import build_adapters
from invite_service.sandbox import (
    AccountLimits,
    TargetFate,
    TelegramSimulator,
    UnknownAccountError,
    target_fate,
)
from invite_service.sandbox.adapter import SandboxAdapter, simulator_limits
from invite_service.sandbox.integration_app import create_integration_app, demo_config

SEED = 5
USER = "user-7"
CHAT = "@club"
SECRET = "sandbox-adapter-test-secret-" + "w" * 32


def key_with(fate: TargetFate, skip: int = 0) -> str:
    found = (
        f"member{n:05d}" for n in range(20_000) if target_fate(demo_config(SEED), f"member{n:05d}") is fate
    )
    for _ in range(skip):
        next(found)
    return next(found)


def by_username(key: str, **extra: str) -> TargetRef:
    return TargetRef(TargetKind.USERNAME, key, username=key, **extra)


def sandbox(limits: AccountLimits | None = None) -> tuple[SandboxAdapter, SimulatedClock]:
    clock = SimulatedClock()
    return SandboxAdapter(TelegramSimulator(demo_config(SEED, limits), clock)), clock


async def test_demo_accounts_are_made_once_per_user_with_unique_ids() -> None:
    adapter, _ = sandbox()
    first = await adapter.initialize_accounts(USER)
    assert [(a.id, a.label, a.platform) for a in first] == [
        (f"sb-{USER}-{n}", f"sandbox-{n}", Platform.SANDBOX) for n in range(1, 5)
    ]
    assert all(a.status is AccountStatus.ACTIVE for a in first)
    assert await adapter.initialize_accounts(USER) == first
    other = await adapter.initialize_accounts("user-8")
    assert {a.id for a in other}.isdisjoint(a.id for a in first)
    telegram = SandboxAdapter(adapter.simulator, platform=Platform.TELEGRAM)
    assert [a.id for a in await telegram.initialize_accounts(USER)] == [f"tg-{USER}-{n}" for n in range(1, 5)]


# Each scenario: (step, target, injected RPC error or None). Run on both adapters, results must match.
SCENARIOS = [
    ("invite", by_username(key_with(TargetFate.OK)), None),
    ("invite", by_username(key_with(TargetFate.PRIVACY)), None),
    ("invite", by_username(key_with(TargetFate.DELETED)), None),
    ("invite", by_username(key_with(TargetFate.UNKNOWN)), None),
    ("invite", by_username(key_with(TargetFate.ALREADY_MEMBER)), None),
    ("invite", by_username(key_with(TargetFate.MISSING)), None),
    ("invite", by_username(key_with(TargetFate.MISSING_PREMIUM_ALLOW)), None),
    ("invite", by_username(key_with(TargetFate.MISSING_PREMIUM_PM)), None),
    ("message", by_username(key_with(TargetFate.OK, skip=1)), None),
    ("message", by_username(key_with(TargetFate.BLOCKED)), None),
    ("message", by_username(key_with(TargetFate.MISSING_PREMIUM_PM)), None),
    ("invite", by_username(key_with(TargetFate.OK, skip=2)), "FLOOD_WAIT_42"),
    ("invite", by_username(key_with(TargetFate.OK, skip=2)), "PEER_FLOOD"),
    ("message", by_username(key_with(TargetFate.OK, skip=2)), "AUTH_KEY_UNREGISTERED"),
    ("invite", by_username(key_with(TargetFate.OK, skip=2)), "USERS_TOO_MUCH"),
    ("invite", by_username(key_with(TargetFate.OK, skip=2)), "CHAT_ADMIN_REQUIRED"),
    ("invite", by_username(key_with(TargetFate.OK, skip=3), platform_user_id="4040"), "USER_ID_INVALID"),
]


async def run(adapter: InvitePlatformAdapter, simulator: TelegramSimulator) -> list[dict[str, object]]:
    results = []
    for n, (step, target, fault) in enumerate(SCENARIOS):
        if fault:
            simulator.inject(fault)
        key = f"scenario-{n:02d}"  # one logical call each: a shared key would replay the first answer
        if step == "invite":
            result = await adapter.send_invite("acc", CHAT, target, key=key)
        else:
            result = await adapter.send_message("acc", target, "hello", key=key)
        results.append(asdict(result))
    return results


async def test_the_sandbox_maps_exactly_like_the_telegram_adapter() -> None:
    in_process = TelegramSimulator(demo_config(SEED), SimulatedClock())
    over_http = TelegramSimulator(demo_config(SEED), SimulatedClock())
    for simulator in (in_process, over_http):
        simulator.add_account("acc", USER, "acc")
    transport = httpx.ASGITransport(app=create_integration_app(over_http, SECRET))
    async with TelegramAdapter(IntegrationClient("http://sandbox", SECRET, transport=transport)) as telegram:
        expected = await run(telegram, over_http)
    got = await run(SandboxAdapter(in_process), in_process)
    assert got == expected
    outcomes = [r["outcome"] for r in got]
    # The scenarios cover every class, so the comparison above is not vacuous.
    assert set(outcomes) == set(Outcome) - {Outcome.TRANSIENT}
    assert got[-1]["outcome"] is Outcome.SUCCESS and not got[-1]["retry_by_username"]
    assert [e.target for e in in_process.ledger()] == [e.target for e in over_http.ledger()]


async def test_a_transient_platform_error_is_uncertain() -> None:
    adapter, _ = sandbox()
    [account, *_] = await adapter.initialize_accounts(USER)
    adapter.simulator.inject("RPC_CALL_FAIL")
    result = await adapter.send_invite(
        account.id, CHAT, by_username(key_with(TargetFate.OK)), key="sb-key-03"
    )
    assert (result.outcome, result.error_code, result.delivery_uncertain) == (
        Outcome.TRANSIENT,
        "RPC_CALL_FAIL",
        True,
    )


async def test_pushback_above_the_caps_and_what_check_rate_limits_reports() -> None:
    adapter, clock = sandbox(AccountLimits(min_spacing_seconds=30, invites_per_hour=2))
    [account, *_] = await adapter.initialize_accounts(USER)
    targets = [by_username(key_with(TargetFate.OK, skip=n)) for n in range(3)]
    assert (await adapter.send_invite(account.id, CHAT, targets[0], key="sb-key-04")).ok
    early = await adapter.send_invite(account.id, CHAT, targets[1], key="sb-key-05")
    assert (early.outcome, early.retry_after) == (Outcome.RETRY_AFTER, 30.0)
    status = await adapter.check_rate_limits(account.id)
    assert status.cooldown_until == clock.now() + timedelta(seconds=30)
    [hourly] = [w for w in status.windows if w.action == "invite" and w.window_seconds == 3600]
    assert (hourly.used, hourly.limit, hourly.remaining) == (1, 2, 1)
    clock.advance(31)
    assert (await adapter.send_invite(account.id, CHAT, targets[1], key="sb-key-06")).ok
    clock.advance(31)
    over = await adapter.send_invite(account.id, CHAT, targets[2], key="sb-key-07")
    assert (over.outcome, over.error_code) == (Outcome.ACCOUNT_RESTRICTED, "PEER_FLOOD")
    [again, *_] = await adapter.initialize_accounts(USER)
    assert again.status is AccountStatus.RESTRICTED and again.cooldown_until is not None


async def test_membership_is_checked_by_the_identity_the_invite_used() -> None:
    adapter, _ = sandbox()
    [account, *_] = await adapter.initialize_accounts(USER)
    target = by_username(key_with(TargetFate.OK), platform_user_id="777001")
    assert await adapter.check_membership(account.id, CHAT, target) is False
    assert (await adapter.send_invite(account.id, CHAT, target, key="sb-key-08")).ok
    assert await adapter.check_membership(account.id, CHAT, target) is True
    assert await adapter.check_membership(account.id, "@elsewhere", target) is False
    assert [e.target for e in adapter.simulator.ledger()] == ["777001"]


async def test_demo_accounts_come_back_after_a_restart_and_unknown_ones_are_unavailable() -> None:
    adapter, _ = sandbox()  # a fresh simulator: what a restarted process has
    result = await adapter.send_invite(
        f"sb-{USER}-2", CHAT, by_username(key_with(TargetFate.OK)), key="sb-key-09"
    )
    assert result.outcome is Outcome.SUCCESS
    assert len(adapter.simulator.accounts_for(USER)) == 4
    for foreign in ("acc-9", f"sb-{USER}-9", f"tg-{USER}-1"):
        unknown = await adapter.send_invite(
            foreign, CHAT, by_username(key_with(TargetFate.OK)), key=f"sb-key-{foreign}"
        )
        assert (unknown.outcome, unknown.error_code, unknown.charged) == (
            Outcome.ACCOUNT_UNAVAILABLE,
            "ACCOUNT_NOT_FOUND",
            False,
        )
    with pytest.raises(UnknownAccountError):
        await adapter.check_rate_limits("acc-9")


async def test_the_telegram_adapter_reports_a_platform_wait_from_account_status() -> None:
    # Over the sandbox app in process (ASGI) to control the clock: a 10 s spacing gives FLOOD_WAIT.
    clock = SimulatedClock()
    simulator = TelegramSimulator(demo_config(SEED, AccountLimits(min_spacing_seconds=10)), clock)
    simulator.add_account("acc", USER, "one")
    transport = httpx.ASGITransport(app=create_integration_app(simulator, SECRET))
    client = IntegrationClient("http://sandbox", SECRET, transport=transport)
    async with TelegramAdapter(client) as adapter:
        assert (
            await adapter.send_invite("acc", CHAT, by_username(key_with(TargetFate.OK)), key="sb-key-11")
        ).ok
        waited = await adapter.send_invite(
            "acc", CHAT, by_username(key_with(TargetFate.OK, skip=1)), key="sb-key-12"
        )
        assert (waited.outcome, waited.retry_after) == (Outcome.RETRY_AFTER, 10.0)
        status = await adapter.check_rate_limits("acc")
        assert status.cooldown_until is not None
        assert (status.cooldown_until - clock.now()).total_seconds() == 10
        [account] = await adapter.initialize_accounts(USER)
        assert (
            account.status is AccountStatus.COOLING_DOWN and account.cooldown_until == status.cooldown_until
        )


# -- the composition root's adapters --


async def test_telegram_goes_to_the_integration_service_only_when_its_url_is_set() -> None:
    embedded = Settings(integration_url="")
    registry = build_adapters(embedded)
    adapter = registry.get("telegram")
    assert isinstance(adapter, SandboxAdapter) and adapter.platform is Platform.TELEGRAM
    telegram_caps = embedded.caps_for("telegram")
    assert adapter.simulator.config.limits == simulator_limits(telegram_caps)
    wired = Settings(integration_url="http://integration.internal:8100", integration_token_secret=SECRET)
    remote = build_adapters(wired).get(Platform.TELEGRAM)
    assert isinstance(remote, TelegramAdapter)
    await remote.aclose()
    await registry.aclose()


async def test_sandbox_always_uses_the_simulator_with_the_sandbox_caps() -> None:
    settings = Settings(integration_url="http://integration.internal:8100", integration_token_secret=SECRET)
    registry = build_adapters(settings)
    adapter = registry.get("sandbox")
    assert isinstance(adapter, SandboxAdapter) and adapter.platform is Platform.SANDBOX
    caps = settings.platform_caps["sandbox"]
    limits = adapter.simulator.config.limits
    assert (limits.invites_per_hour, limits.invites_per_day) == (caps.invites_per_hour, caps.invites_per_day)
    assert 0 < limits.min_spacing_seconds <= caps.min_delay_seconds
    # One simulator a process: every later lookup sees the first one's accounts.
    await adapter.initialize_accounts(USER)
    assert registry.get("sandbox").simulator.accounts_for(USER)  # type: ignore[attr-defined]


async def test_the_registry_builds_each_platform_once_and_closes_them() -> None:
    registry = build_adapters(Settings(integration_url=""))
    assert isinstance(registry, AdapterRegistry)
    assert registry.get("sandbox") is registry.get(Platform.SANDBOX)
    assert registry.get("telegram") is not registry.get("sandbox")
    with pytest.raises(UnknownPlatformError):
        registry.get("whatsapp")
    await registry.aclose()
