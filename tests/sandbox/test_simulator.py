"""The simulated Telegram: deterministic fates, platform pushback, and a ledger tests can audit."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest

from invite_service.kit.clock import SimulatedClock
from invite_service.sandbox import (
    AccountLimits,
    RpcError,
    SimulatorConfig,
    TargetFate,
    TelegramSimulator,
    UnknownAccountError,
    target_fate,
)

MIXED = SimulatorConfig(
    seed=7,
    privacy_share=0.10,
    already_member_share=0.10,
    deleted_share=0.05,
    unknown_username_share=0.05,
    blocked_share=0.10,
    missing_invitee_share=0.05,
    missing_premium_allow_share=0.05,
    missing_premium_pm_share=0.05,
)


def make(
    config: SimulatorConfig | None = None, accounts: int = 1
) -> tuple[TelegramSimulator, SimulatedClock]:
    clock = SimulatedClock()
    sim = TelegramSimulator(config or SimulatorConfig(), clock)
    for n in range(accounts):
        sim.add_account(f"acc{n}", "user-1", f"Account {n}")
    return sim, clock


async def invite_outcome(sim: TelegramSimulator, account: str, chat: str, target: str) -> str:
    try:
        result = await sim.invite(account, chat, target)
    except RpcError as error:
        return error.name
    if result.added:
        return "added"
    missing = result.missing_invitees[0]
    return f"missing:{int(missing.premium_would_allow_invite)}{int(missing.premium_required_for_pm)}"


async def message_outcome(sim: TelegramSimulator, account: str, target: str) -> str:
    try:
        await sim.send_message(account, target, "hello")
    except RpcError as error:
        return error.name
    return "delivered"


async def test_fates_do_not_depend_on_order_or_account() -> None:
    targets = [f"user{n}" for n in range(400)]
    first, _ = make(MIXED, accounts=1)
    second, _ = make(MIXED, accounts=3)
    one = {t: await invite_outcome(first, "acc0", "chat", t) for t in targets}
    other = {
        t: await invite_outcome(second, f"acc{n % 3}", "chat", t) for n, t in enumerate(reversed(targets))
    }
    assert one == other
    assert len(set(one.values())) == 8  # every invite outcome showed up, so the comparison means something
    reseeded, _ = make(replace(MIXED, seed=8))
    assert {t: await invite_outcome(reseeded, "acc0", "chat", t) for t in targets} != one


async def test_shares_are_roughly_respected() -> None:
    sim, _ = make(MIXED)
    targets = [f"person_{n}" for n in range(2000)]
    invites = Counter([await invite_outcome(sim, "acc0", "chat", t) for t in targets])
    messages = Counter([await message_outcome(sim, "acc0", t) for t in targets])
    expected_invites = {
        "USER_PRIVACY_RESTRICTED": 0.10,
        "USER_ALREADY_PARTICIPANT": 0.10,
        "INPUT_USER_DEACTIVATED": 0.05,
        "USERNAME_NOT_OCCUPIED": 0.05,
        "missing:00": 0.05,
        "missing:10": 0.05,
        "missing:01": 0.05,
        "added": 0.55,  # blocked users can still be invited
    }
    for name, share in expected_invites.items():
        assert abs(invites[name] / 2000 - share) < 0.05, (name, invites[name])
    assert abs(messages["USER_IS_BLOCKED"] / 2000 - 0.10) < 0.05
    assert abs(messages["PRIVACY_PREMIUM_REQUIRED"] / 2000 - 0.05) < 0.05
    assert abs(messages["delivered"] / 2000 - 0.80) < 0.05


async def test_numeric_unknown_target_is_peer_id_invalid() -> None:
    sim, _ = make(SimulatorConfig(unknown_username_share=1.0))
    assert await invite_outcome(sim, "acc0", "chat", "123456") == "PEER_ID_INVALID"
    assert await invite_outcome(sim, "acc0", "chat", "@nobody") == "USERNAME_NOT_OCCUPIED"


async def test_spacing_gives_flood_wait_and_obeying_it_succeeds() -> None:
    sim, clock = make(SimulatorConfig(limits=AccountLimits(min_spacing_seconds=30)))
    assert await invite_outcome(sim, "acc0", "chat", "a") == "added"
    clock.advance(10.5)
    with pytest.raises(RpcError) as raised:
        await sim.invite("acc0", "chat", "b")
    assert (raised.value.name, raised.value.seconds, raised.value.code) == ("FLOOD_WAIT_X", 20, 420)
    assert raised.value.message == "FLOOD_WAIT_20"
    status = await sim.account_status("acc0")
    assert status.state == "flood_wait"
    assert status.flood_wait_until == clock.now() + timedelta(seconds=20)
    clock.advance(20)
    assert await invite_outcome(sim, "acc0", "chat", "b") == "added"
    assert (await sim.account_status("acc0")).state == "active"
    assert [e.target for e in sim.ledger()] == ["a", "b"]


async def test_calling_during_a_wait_escalates_then_restricts() -> None:
    config = SimulatorConfig(limits=AccountLimits(min_spacing_seconds=30), max_flood_violations=3)
    sim, clock = make(config)
    await sim.send_message("acc0", "a", "hi")
    clock.advance(20)
    with pytest.raises(RpcError) as raised:
        await sim.send_message("acc0", "b", "hi")
    assert raised.value.seconds == 10
    clock.advance(5)  # 5 s left; ignoring it doubles what is left
    with pytest.raises(RpcError) as raised:
        await sim.send_message("acc0", "b", "hi")
    assert (raised.value.name, raised.value.seconds) == ("FLOOD_WAIT_X", 10)
    clock.advance(1)
    with pytest.raises(RpcError) as raised:
        await sim.send_message("acc0", "b", "hi")
    assert raised.value.seconds == 18
    clock.advance(1)
    with pytest.raises(RpcError) as raised:
        await sim.send_message("acc0", "b", "hi")
    assert raised.value.name == "PEER_FLOOD"
    assert (await sim.account_status("acc0")).state == "restricted"
    assert len(sim.ledger()) == 1


async def test_going_over_an_hourly_cap_restricts_the_account() -> None:
    config = SimulatorConfig(limits=AccountLimits(invites_per_hour=3), restriction_seconds=86400)
    sim, clock = make(config, accounts=2)
    for n in range(3):
        assert await invite_outcome(sim, "acc0", "chat", f"t{n}") == "added"
        clock.advance(60)
    assert await invite_outcome(sim, "acc0", "chat", "t3") == "PEER_FLOOD"
    status = await sim.account_status("acc0")
    assert status.state == "restricted"
    assert status.restricted_until == clock.now() + timedelta(days=1)
    clock.advance(2 * 3600)  # the hour window has long passed, the restriction has not
    assert await invite_outcome(sim, "acc0", "chat", "t3") == "PEER_FLOOD"
    assert await message_outcome(sim, "acc0", "t3") == "PEER_FLOOD"
    assert await invite_outcome(sim, "acc1", "chat", "t3") == "added"  # restrictions are per account
    clock.advance(86400)
    assert await invite_outcome(sim, "acc0", "chat", "t4") == "added"
    assert sim.window_breaches(AccountLimits(invites_per_hour=3)) == []  # the refused call is not in it
    assert len(sim.ledger(account_id="acc0")) == 4


async def test_refused_calls_count_toward_caps() -> None:
    config = SimulatorConfig(privacy_share=1.0, limits=AccountLimits(invites_per_day=2))
    sim, _ = make(config)
    assert await invite_outcome(sim, "acc0", "chat", "x") == "USER_PRIVACY_RESTRICTED"
    assert await invite_outcome(sim, "acc0", "chat", "y") == "USER_PRIVACY_RESTRICTED"
    assert await invite_outcome(sim, "acc0", "chat", "z") == "PEER_FLOOD"
    assert sim.ledger() == []


async def test_second_invite_is_already_participant_and_ledger_has_one_entry() -> None:
    sim, clock = make(accounts=2)
    assert await invite_outcome(sim, "acc0", "chat", "@Alice") == "added"
    clock.advance(60)
    assert await invite_outcome(sim, "acc1", "chat", "alice") == "USER_ALREADY_PARTICIPANT"
    assert await sim.is_member("chat", "ALICE")
    assert not await sim.is_member("other", "alice")
    assert [(e.account_id, e.chat, e.target, e.result) for e in sim.ledger()] == [
        ("acc0", "chat", "alice", "added")
    ]
    assert sim.double_sends() == []


async def test_concurrent_invites_of_one_target_are_accepted_once() -> None:
    sim, _ = make(accounts=5)
    outcomes = await asyncio.gather(*(invite_outcome(sim, f"acc{n % 5}", "chat", "bob") for n in range(50)))
    assert Counter(outcomes) == {"added": 1, "USER_ALREADY_PARTICIPANT": 49}
    assert len(sim.ledger(action="invite")) == 1


async def test_full_chat_gives_users_too_much() -> None:
    sim, _ = make(SimulatorConfig(chat_capacity={"small": 2}))
    assert await invite_outcome(sim, "acc0", "small", "a") == "added"
    assert await invite_outcome(sim, "acc0", "small", "b") == "added"
    assert await invite_outcome(sim, "acc0", "small", "c") == "USERS_TOO_MUCH"
    assert await invite_outcome(sim, "acc0", "big", "c") == "added"
    assert sim.snapshot()["chats"]["small"] == {"members_added": 2, "capacity": 2}


async def test_admin_rights_and_revoked_sessions() -> None:
    config = SimulatorConfig(not_admin={"chat": frozenset({"acc0"})}, revoked_sessions=frozenset({"acc2"}))
    sim, _ = make(config, accounts=3)
    assert await invite_outcome(sim, "acc0", "chat", "a") == "CHAT_ADMIN_REQUIRED"
    assert await invite_outcome(sim, "acc0", "elsewhere", "a") == "added"
    assert await invite_outcome(sim, "acc1", "chat", "a") == "added"
    assert await invite_outcome(sim, "acc2", "chat", "b") == "AUTH_KEY_UNREGISTERED"
    assert (await sim.account_status("acc2")).state == "session_revoked"
    sim.revoke_session("acc1")
    assert await message_outcome(sim, "acc1", "b") == "AUTH_KEY_UNREGISTERED"
    with pytest.raises(UnknownAccountError):
        await sim.invite("ghost", "chat", "a")


async def test_missing_invitees_carry_telegram_flags() -> None:
    sim, _ = make(MIXED)
    wanted = {
        TargetFate.MISSING: (False, False),
        TargetFate.MISSING_PREMIUM_ALLOW: (True, False),
        TargetFate.MISSING_PREMIUM_PM: (False, True),
    }
    for fate, flags in wanted.items():
        target = next(f"m{n}" for n in range(10_000) if target_fate(MIXED, f"m{n}") is fate)
        result = await sim.invite("acc0", "chat", target)
        assert result.added == []
        (missing,) = result.missing_invitees
        assert (missing.premium_would_allow_invite, missing.premium_required_for_pm) == flags
        assert missing.user_id > 0
        assert not await sim.is_member("chat", target)
    assert {e.result for e in sim.ledger()} == {"missing_invitee"}


async def test_injected_faults_fail_n_calls_then_stop() -> None:
    sim, _ = make(accounts=2)
    sim.inject("RPC_CALL_FAIL", count=2)
    assert await invite_outcome(sim, "acc0", "chat", "a") == "RPC_CALL_FAIL"
    assert await message_outcome(sim, "acc1", "a") == "RPC_CALL_FAIL"
    assert await invite_outcome(sim, "acc0", "chat", "a") == "added"
    sim.inject("FLOOD_WAIT_42", account_id="acc1")
    assert await invite_outcome(sim, "acc0", "chat", "b") == "added"  # another account is untouched
    with pytest.raises(RpcError) as raised:
        await sim.send_message("acc1", "b", "hi")
    assert (raised.value.name, raised.value.seconds) == ("FLOOD_WAIT_X", 42)
    assert await message_outcome(sim, "acc1", "b") == "delivered"
    sim.inject("USER_CHANNELS_TOO_MUCH", count=5)
    sim.clear_faults()
    assert await invite_outcome(sim, "acc0", "chat", "c") == "added"
    with pytest.raises(ValueError, match="seconds"):
        sim.inject("FLOOD_WAIT")


async def test_ledger_helpers_find_a_planted_double_send_and_breach() -> None:
    sim, clock = make(accounts=2)  # no caps, so the simulator lets our "bug" through
    await sim.send_message("acc0", "carol", "hi")
    clock.advance(30)
    await sim.send_message("acc1", "@Carol", "hi again")
    for n in range(5):  # five invites inside one hour
        await sim.invite("acc0", "chat", f"u{n}")
        clock.advance(600)
    for n in range(4):  # four invites two hours apart: fine per hour, too many per day at 3
        await sim.invite("acc1", "chat", f"v{n}")
        clock.advance(7200)
    (double,) = sim.double_sends()
    assert (double.action, double.chat, double.target) == ("message", None, "carol")
    assert [e.account_id for e in double.entries] == ["acc0", "acc1"]
    (hourly,) = sim.window_breaches(AccountLimits(invites_per_hour=4))
    assert (hourly.account_id, hourly.window_seconds, hourly.cap, hourly.count) == ("acc0", 3600, 4, 5)
    assert sim.window_breaches(AccountLimits(invites_per_hour=5, invites_per_day=5)) == []
    daily = sim.window_breaches({"acc1": AccountLimits(invites_per_hour=1, invites_per_day=3)})
    assert [(b.account_id, b.window_seconds, b.count) for b in daily] == [("acc1", 86400, 4)]
    assert sim.window_breaches(AccountLimits(messages_per_day=1)) == []  # one message per account


async def test_window_edge_is_half_open() -> None:
    sim, clock = make()
    await sim.invite("acc0", "chat", "a")
    clock.advance(3600)  # exactly one hour later the first invite has left the window
    await sim.invite("acc0", "chat", "b")
    assert sim.window_breaches(AccountLimits(invites_per_hour=1)) == []
    capped, capped_clock = make(SimulatorConfig(limits=AccountLimits(invites_per_hour=1)))
    await capped.invite("acc0", "chat", "a")
    capped_clock.advance(3600)
    assert await invite_outcome(capped, "acc0", "chat", "b") == "added"


async def test_message_request_errors_and_ledger_filters() -> None:
    sim, clock = make(accounts=2)
    assert await message_outcome(sim, "acc0", "a") == "delivered"
    with pytest.raises(RpcError, match="MESSAGE_EMPTY"):
        await sim.send_message("acc0", "b", "   ")
    with pytest.raises(RpcError, match="MESSAGE_TOO_LONG"):
        await sim.send_message("acc0", "b", "x" * 4097)
    start = clock.advance(60)
    await sim.invite("acc1", "chat", "b")
    assert [e.action for e in sim.ledger(since=start)] == ["invite"]
    assert [e.text for e in sim.ledger(action="message")] == ["hello"]
    assert sim.ledger(account_id="acc1", action="message") == []


async def test_latency_applies_after_the_call_took_effect() -> None:
    sim, _ = make()
    sim.set_latency(30)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sim.invite("acc0", "chat", "dave"), timeout=0.05)
    assert await sim.is_member("chat", "dave")  # the caller never heard back, but the platform acted
    sim.set_latency(0)


async def test_snapshot_accounts_and_reset() -> None:
    sim, _ = make(SimulatorConfig(limits=AccountLimits(invites_per_hour=1)), accounts=2)
    sim.add_account("other", "user-2", "Theirs", platform="sandbox")
    assert [a.account_id for a in sim.accounts_for("user-1")] == ["acc0", "acc1"]
    assert [a.platform for a in sim.accounts_for("user-2")] == ["sandbox"]
    with pytest.raises(ValueError, match="exists"):
        sim.add_account("acc0", "user-1", "again")
    await sim.invite("acc0", "chat", "a")
    assert await invite_outcome(sim, "acc0", "chat", "b") == "PEER_FLOOD"
    sim.inject("INTERNAL")
    snap = sim.snapshot(include_ledger=True)
    json.dumps(snap)
    assert snap["ledger_size"] == 1
    assert snap["accounts"][0]["state"] == "restricted"
    assert snap["faults"][0]["name"] == "INTERNAL"
    sim.reset()
    assert sim.ledger() == []
    assert (await sim.account_status("acc0")).state == "active"
    assert not await sim.is_member("chat", "a")
    assert await invite_outcome(sim, "acc0", "chat", "a") == "added"


async def test_platform_calls_hold_every_call_that_reached_the_platform_and_find_repeats() -> None:
    config = SimulatorConfig(seed=3, privacy_share=0.5, not_admin={"locked": frozenset({"acc0"})})
    private = next(f"p{n}" for n in range(100) if target_fate(config, f"p{n}") is TargetFate.PRIVACY)
    reachable = next(f"r{n}" for n in range(100) if target_fate(config, f"r{n}") is TargetFate.OK)
    sim, clock = make(config, accounts=2)
    sim.inject("RPC_CALL_FAIL")  # fails before the platform: not a platform call
    sim.revoke_session("acc1")
    assert await invite_outcome(sim, "acc0", "chat", private) == "RPC_CALL_FAIL"
    assert await invite_outcome(sim, "acc1", "chat", private) == "AUTH_KEY_UNREGISTERED"
    assert sim.platform_calls() == []
    sim.restore_session("acc1")
    assert await invite_outcome(sim, "acc0", "locked", reachable) == "CHAT_ADMIN_REQUIRED"
    assert await invite_outcome(sim, "acc1", "locked", reachable) == "added"
    assert await invite_outcome(sim, "acc0", "chat", private) == "USER_PRIVACY_RESTRICTED"
    clock.advance(60)
    assert await invite_outcome(sim, "acc1", "chat", f"@{private.upper()}") == "USER_PRIVACY_RESTRICTED"
    assert [(c.seq, c.account_id, c.chat, c.target, c.result) for c in sim.platform_calls()] == [
        (1, "acc0", "locked", reachable, "CHAT_ADMIN_REQUIRED"),
        (2, "acc1", "locked", reachable, "added"),
        (3, "acc0", "chat", private, "USER_PRIVACY_RESTRICTED"),
        (4, "acc1", "chat", private, "USER_PRIVACY_RESTRICTED"),
    ]
    assert [c.seq for c in sim.platform_calls(account_id="acc1", action="invite")] == [2, 4]
    # The ledger holds accepted actions only, so only the platform calls show the privacy refusal asked twice;
    # the refusal for the account (not admin) left the target untouched and is no repeat.
    assert sim.double_sends() == []
    (repeat,) = sim.repeated_calls()
    assert (repeat.action, repeat.chat, repeat.target, [c.seq for c in repeat.calls]) == (
        "invite",
        "chat",
        private,
        [3, 4],
    )
    assert json.loads(json.dumps(sim.platform_calls()[0].to_dict()))["result"] == "CHAT_ADMIN_REQUIRED"
    sim.reset()
    assert sim.platform_calls() == [] and sim.snapshot()["platform_calls"] == 0


async def test_a_premium_account_adds_whom_premium_admits_and_no_one_else() -> None:
    sim, _ = make(MIXED, accounts=2)
    sim.set_premium("acc1")
    allow = next(
        f"p{n}" for n in range(10_000) if target_fate(MIXED, f"p{n}") is TargetFate.MISSING_PREMIUM_ALLOW
    )
    privacy = next(f"q{n}" for n in range(10_000) if target_fate(MIXED, f"q{n}") is TargetFate.MISSING)
    assert await invite_outcome(sim, "acc0", "chat", allow) == "missing:10"
    assert await invite_outcome(sim, "acc1", "chat", allow) == "added"
    assert await invite_outcome(sim, "acc1", "chat", privacy) == "missing:00"
    assert [a["is_premium"] for a in sim.snapshot()["accounts"]] == [False, True]


async def test_a_silent_invite_adds_no_one_and_reports_no_one_missing() -> None:
    config = replace(MIXED, silent_invite_share=0.05)
    sim, _ = make(config)
    silent = next(f"s{n}" for n in range(10_000) if target_fate(config, f"s{n}") is TargetFate.SILENT)
    result = await sim.invite("acc0", "chat", silent)
    assert (result.added, result.missing_invitees) == ([], [])
    assert not await sim.is_member("chat", silent)
    assert [e.result for e in sim.ledger()] == ["no_change"]
    # The share comes out of the reachable targets only: every other fate is where it was.
    assert all(
        target_fate(config, f"t{n}") is target_fate(MIXED, f"t{n}")
        for n in range(2_000)
        if target_fate(MIXED, f"t{n}") is not TargetFate.OK
    )


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("USER_DEACTIVATED_BAN", 401),
        ("ACTIVE_USER_REQUIRED", 401),
        ("RANDOM_ID_DUPLICATE", 500),
        ("BOTS_TOO_MUCH", 400),
        ("CHAT_MEMBER_ADD_FAILED", 400),
        ("CHANNEL_MONOFORUM_UNSUPPORTED", 400),
        ("ALLOW_PAYMENT_REQUIRED", 406),
        ("PREMIUM_ACCOUNT_REQUIRED", 403),
    ],
)
async def test_injected_errors_carry_telegrams_class_to_the_wire(name: str, code: int) -> None:
    from invite_service.sandbox.integration_state import rpc_payload

    sim, _ = make()
    sim.inject(name)
    with pytest.raises(RpcError) as raised:
        await sim.invite("acc0", "chat", "x")
    assert raised.value.code == code
    status, body = rpc_payload(raised.value)
    assert body["rpc_code"] == code and body["code"] == name
    # The contract's HTTP mapping: a session class goes out as 403, a platform failure as 502; a duplicate
    # random_id is a definite answer (delivered before), so it is a 400 that is never retried.
    expected = 400 if name == "RANDOM_ID_DUPLICATE" else {401: 403, 500: 502}.get(code, code)
    assert status == expected
