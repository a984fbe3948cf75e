"""Never twice, on the production shape: every (boundary x outcome x step) with real Celery workers.

The same table as ``tests/execution/test_never_twice.py`` (simulated time, one process), run here on
PostgreSQL by two Celery workers and beat over RabbitMQ and Redis, against the sandbox Integration
Service over HTTP. One stack serves the whole module and the cases run one at a time, each one fault at
one boundary of one target's send:

- on the platform side (``/admin/faults``): a 5xx before the service recorded the key, on every
  attempt of the call (``before``); the platform acted and the connection was closed without an
  answer, on every attempt (``after``); the platform acted and answered after the send lease ran out
  (``late``);
- in the engine (``kit.faults`` through ``INVITE_FAULT_DIR``): the worker process that reaches the
  boundary exits on the spot, as a SIGKILL leaves it, right after ``sending`` was committed, right after
  the platform answered, or inside the outcome's transaction before it commits.

Every case must end, by itself, exactly as a target of the same fate ends with no fault (the controls,
run first), with one platform call for it, nothing in flight, counters equal to the states, and the
armed fault actually spent. A target's fate is a pure function of (seed, name), so outcomes are chosen.
Each case has a user (and sandbox accounts) of its own, so one case's crash cannot slow the next.

The cases run one at a time, each waiting out the engine's own clocks (the 15 s send lease, the 5 s
transient backoff, a dead worker's 15 s account lock): `make test` runs the 12 cases that re-sent before
operation keys, `make chaos` the whole matrix (about 10 minutes).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from invite_service.kit.faults import SEND, Boundary
from invite_service.main import create_app
from invite_service.sandbox.integration_state import demo_config
from invite_service.sandbox.model import TargetFate, canonical_key, target_fate
from tests.conftest import require_service
from tests.production.api import FINAL, IN_FLIGHT, Api
from tests.production.stack import TUNING, Stack, running_stack

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

SEED = 5  # the stack's ``sandbox-integration --seed``
PLATFORM = ("before", "after", "late")
ENGINE = tuple(b.value for b in SEND)
BOUNDARIES = PLATFORM + ENGINE
OUTCOMES = {
    "invite": (TargetFate.OK, TargetFate.PRIVACY, TargetFate.MISSING, TargetFate.ALREADY_MEMBER),
    "message": (TargetFate.OK, TargetFate.BLOCKED),
}
# `make test` runs every boundary for the invite a privacy refusal leaves out and for a delivered message
# (12 cases, the ones that re-sent before operation keys); `make chaos` runs the whole matrix (36).
# The in-process engine runs every (boundary x outcome x step) on both databases in tests/execution.
FULL_MATRIX = os.environ.get("INVITE_CHAOS_FULL", "") == "1"
CI_OUTCOMES = {("invite", TargetFate.PRIVACY), ("message", TargetFate.OK)}
CASES = [
    pytest.param(step, fate, boundary, id=f"{step}-{fate.value}-{boundary}")
    for step, fates in OUTCOMES.items()
    for fate in fates
    for boundary in BOUNDARIES
    if FULL_MATRIX or (step, fate) in CI_OUTCOMES
]
OPERATION = {"invite": "invite", "message": "send_message"}  # the sandbox's names for the calls
ATTEMPTS = int(TUNING["integration_max_attempts"])  # an HTTP fault on every attempt fails the whole call
LATE_SECONDS = TUNING["send_lease_seconds"] + 3  # the answer comes after the send lease ran out
DEADLINE = 240.0  # per case: generous, the machine is shared
# Short codes for the usernames (5-32 letters, digits, underscores).
FATE_CODE = {
    TargetFate.OK: "ok",
    TargetFate.PRIVACY: "pr",
    TargetFate.MISSING: "mi",
    TargetFate.ALREADY_MEMBER: "am",
    TargetFate.BLOCKED: "bl",
}
BOUNDARY_CODE = {
    "before": "pb",
    "after": "pa",
    "late": "pl",
    Boundary.AFTER_MARK_SENDING.value: "ems",
    Boundary.AFTER_CALL.value: "eac",
    Boundary.BEFORE_RECORD_COMMIT.value: "erc",
}


def name_with(fate: TargetFate, prefix: str) -> str:
    """A username whose fate on the stack's sandbox is ``fate`` (decided by the name alone)."""
    config = demo_config(SEED)
    return next(f"{prefix}{n}" for n in range(100_000) if target_fate(config, f"{prefix}{n}") is fate)


@dataclass(frozen=True)
class Final:
    status: str
    error_code: str | None


@pytest.fixture(scope="module")
def stack(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_service("Redis", "127.0.0.1", 6379)
    require_service("RabbitMQ", "127.0.0.1", 5672)
    with running_stack(postgres_url, tmp_path_factory.mktemp("never-twice")) as stack:
        stack.start_worker(concurrency=1, name="worker-a")
        stack.start_worker(concurrency=1, name="worker-b")
        stack.start_beat()
        yield stack


@pytest.fixture(scope="module")
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """The Invite API in this process, on the stack's settings (its jobs go to the stack's queues)."""
    app = create_app(stack.settings())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://prod", timeout=60) as client:
        yield client
    await app.state.runtime.aclose()
    await app.state.db.dispose()


@pytest.fixture
def api(stack: Stack, client: httpx.AsyncClient) -> Api:
    """A user of its own per case, so its four sandbox accounts start fresh: no lane pause, account
    lock or pacing left over from an earlier case's crash reaches this one."""
    return Api(stack, client)


async def new_task(api: Api, step: str, usernames: list[str]) -> str:
    accounts = await api.accounts()
    body: dict[str, Any] = {
        "name": f"never twice {step}",
        "platform": "telegram",
        "action": step,
        "account_ids": [a["id"] for a in accounts],
    }
    if step == "invite":
        body["destination"] = "@never_twice_chat"
    else:
        body["message_template"] = "Hello from the never-twice test"
    tid = str((await api.call("POST", "/tasks", json=body))["id"])
    rows = [{"username": name} for name in usernames]
    out = await api.call("POST", f"/tasks/{tid}/targets/bulk", json={"targets": rows})
    assert out["created"] == len(usernames), out
    return tid


async def targets(api: Api, tid: str) -> dict[str, dict[str, Any]]:
    page = await api.call("GET", f"/tasks/{tid}/targets", params={"limit": 200})
    return {t["username"]: t for t in page["items"]}


async def task_log(api: Api, tid: str) -> list[str]:
    """The task's execution log, oldest first, one line a row."""
    page = await api.call("GET", f"/tasks/{tid}/logs", params={"sort": "at", "limit": 200})
    return [
        f"{r['at']} {r['action']} {r['outcome']} {r['error_code'] or ''} {r['account_id'] or ''} "
        f"{r['detail'] or ''}"
        for r in page["items"]
    ]


async def ledger(stack: Stack) -> dict[str, Any]:
    return dict(await asyncio.to_thread(stack.admin, "GET", "/ledger"))


def calls_for(report: dict[str, Any], username: str, step: str) -> list[dict[str, Any]]:
    """Every call that reached the platform for this person and step, refused or not."""
    key = canonical_key(username)
    return [c for c in report["platform_calls"] if c["target"] == key and c["action"] == step]


def accepted_for(report: dict[str, Any], username: str, step: str) -> list[dict[str, Any]]:
    key = canonical_key(username)
    return [e for e in report["entries"] if e["target"] == key and e["action"] == step]


async def wait_completed(api: Api, tid: str, what: str) -> None:
    """Wait for the task to complete by itself; on the deadline, fail with everything there is to see."""
    deadline = time.monotonic() + DEADLINE
    while (await api.get(tid))["status"] != "completed":
        if time.monotonic() > deadline:
            task = await api.get(tid)
            report = await ledger(api.stack)
            rows = await targets(api, tid)
            seen = {name: calls_for(report, name, str(task["action"])) for name in rows}
            raise AssertionError(
                f"{what}: task {tid} is {task['status']} after {DEADLINE:g} s, counters {task['counters']}\n"
                f"targets: {json.dumps(list(rows.values()), default=str, indent=1)}\n"
                f"platform calls: {json.dumps(seen, indent=1)}\n"
                f"task log:\n" + "\n".join(await task_log(api, tid)) + f"\n{api.stack.log_tail()}"
            )
        await asyncio.sleep(0.5)


async def assert_counters_equal_states(api: Api, tid: str) -> None:
    task, states = await api.get(tid), await api.states(tid)
    assert {k: v for k, v in task["counters"].items() if v and k != "total"} == states
    assert not set(states) & IN_FLIGHT, states


@pytest.fixture(scope="module")
async def controls(stack: Stack, client: httpx.AsyncClient) -> dict[tuple[str, TargetFate], Final]:
    """How each (step, fate) ends with no fault: one task per step, every fate in it, run first."""
    api = Api(stack, client)
    names = {
        step: {fate: name_with(fate, f"ntc_{step[0]}{FATE_CODE[fate]}_") for fate in fates}
        for step, fates in OUTCOMES.items()
    }
    tids = {step: await new_task(api, step, list(by_fate.values())) for step, by_fate in names.items()}
    for tid in tids.values():
        await api.start(tid)
    for step, tid in tids.items():
        await wait_completed(api, tid, f"the {step} controls")
    report = await ledger(api.stack)
    expected: dict[tuple[str, TargetFate], Final] = {}
    for step, by_fate in names.items():
        rows = await targets(api, tids[step])
        for fate, name in by_fate.items():
            row = rows[name]
            assert row["status"] in FINAL, (step, fate, row)
            assert len(calls_for(report, name, step)) == 1, (step, fate, calls_for(report, name, step))
            expected[(step, fate)] = Final(row["status"], row["error_code"])
        await assert_counters_equal_states(api, tids[step])
    print(f"\ncontrols: { {f'{s}-{f.value}': (e.status, e.error_code) for (s, f), e in expected.items()} }")
    return expected


def arm(stack: Stack, boundary: str, step: str, username: str) -> None:
    if boundary in ENGINE:
        (stack.fault_dir / boundary).touch()  # the first worker process to reach it exits there
    elif boundary == "late":
        stack.admin("POST", "/faults/latency", params={"seconds": LATE_SECONDS})
    else:
        fault = {
            "kind": "http" if boundary == "before" else "drop",
            "stage": boundary,
            "count": ATTEMPTS,
            "operation": OPERATION[step],
            "target": username,
        }
        stack.admin("POST", "/faults/http", json=fault)


def fired(stack: Stack, boundary: str) -> list[Path]:
    return sorted(stack.fault_dir.glob(f"{boundary}.fired.*"))


def disarm(stack: Stack) -> None:
    """Nothing armed is left for the next case: unclaimed fault files, HTTP faults, latency."""
    for boundary in ENGINE:
        (stack.fault_dir / boundary).unlink(missing_ok=True)
    stack.admin("DELETE", "/faults")


async def wait_platform_call(api: Api, username: str, step: str) -> None:
    async def asked() -> bool:
        return bool(calls_for(await ledger(api.stack), username, step))

    await api.until(asked, DEADLINE, f"the platform call for {username}")


@pytest.mark.parametrize(("step", "fate", "boundary"), CASES)
async def test_a_fault_at_any_boundary_never_makes_the_platform_act_twice(
    stack: Stack,
    api: Api,
    controls: dict[tuple[str, TargetFate], Final],
    step: str,
    fate: TargetFate,
    boundary: str,
) -> None:
    expected = controls[(step, fate)]
    name = name_with(fate, f"nt_{step[0]}{FATE_CODE[fate]}_{BOUNDARY_CODE[boundary]}_")
    tid = await new_task(api, step, [name])
    for old in stack.fault_dir.glob("*.fired.*"):
        old.unlink()  # earlier cases' claims
    arm(stack, boundary, step, name)
    try:
        await api.start(tid)
        if boundary == "late":
            # The platform has acted and sleeps before answering; later calls need not be slow.
            await wait_platform_call(api, name, step)
            stack.admin("DELETE", "/faults")
        await wait_completed(api, tid, f"{step}-{fate.value}-{boundary}")
        unspent_file = boundary in ENGINE and (stack.fault_dir / boundary).exists()
        unspent_http = (await asyncio.to_thread(stack.admin, "GET", "/state"))["http_faults"]
    finally:
        disarm(stack)

    report = await ledger(stack)
    calls = calls_for(report, name, step)
    row = (await targets(api, tid))[name]
    assert len(calls) <= 1, f"the platform was asked {len(calls)} times for {name}: {calls}"
    assert len(accepted_for(report, name, step)) <= 1, "the platform accepted one target twice"
    assert (row["status"], row["error_code"]) == (expected.status, expected.error_code), (
        f"{row['status']} {row['error_code']} (detail {row['error_detail']!r}), "
        f"a control of the same fate ended {expected.status} {expected.error_code}; calls: {calls}"
    )
    assert len(calls) == 1, f"the outcome was not the platform's answer: calls {calls}"
    await assert_counters_equal_states(api, tid)
    if boundary in ENGINE:
        assert not unspent_file, "no worker reached the armed boundary"
        assert len(fired(stack, boundary)) == 1, "the armed boundary was never claimed"
    else:
        assert unspent_http == [], f"the HTTP fault was not spent: {unspent_http}"


async def test_no_person_was_asked_twice_in_the_whole_run(
    stack: Stack, controls: dict[tuple[str, TargetFate], Final]
) -> None:
    """The sandbox's own verdict over every call of the module, controls included."""
    report = await ledger(stack)
    assert report["double_sends"] == 0, report.get("repeated")
    assert report["repeated_calls"] == 0, report.get("repeated")
