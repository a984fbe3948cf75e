"""The same engine as production runs it: Celery worker processes on RabbitMQ, Redis limits and locks,
PostgreSQL, and the Integration Service over real HTTP. Crashes are real SIGKILLs.

Every wait is on an observable condition with a generous deadline: a busy machine is slower, never wrong.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import AMQP_URL, fresh_postgres
from tests.production.api import FINAL, Api, assert_accounted, entries
from tests.production.conftest import ApiFactory
from tests.production.stack import broker_vhost, children, running_stack

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


@pytest.fixture(scope="module")
def other_postgres_url() -> Iterator[str]:
    """A second database: a stack's beat dispatches every due task in its database."""
    with fresh_postgres("invite_prod_b") as url:
        yield url


async def test_celery_workers_run_a_task_to_completion(
    postgres_url: str, tmp_path: Path, api_for: ApiFactory
) -> None:
    with running_stack(postgres_url, tmp_path) as stack:
        stack.start_worker(concurrency=2)
        stack.start_beat()
        api = await api_for(stack)
        tid = await api.task(200)
        await api.start(tid)
        await api.wait(tid, "completed", timeout=300)
        states = await assert_accounted(api, tid, 200, allowed=FINAL)
        assert states.get("invited", 0) == sum(1 for e in entries(stack) if e.result == "added")


async def _settled_child(worker: subprocess.Popen[bytes], born: dict[int, float], api: Api) -> int:
    """A pool process that has been up a while: killing one mid-start can stop Celery's pool itself."""
    found: list[int] = []

    async def settled() -> bool:
        now, alive = time.monotonic(), children(worker.pid)
        for pid in alive:
            born.setdefault(pid, now)
        found[:] = [pid for pid in alive if now - born[pid] >= 2]
        return bool(found)

    await api.until(settled, 120, "a settled worker child")
    return found[0]


async def _kill_a_settled_child(worker: subprocess.Popen[bytes], born: dict[int, float], api: Api) -> None:
    # A child can exit between the listing and the kill (the pool replaces one that died); take the next.
    while True:
        try:
            os.kill(await _settled_child(worker, born, api), signal.SIGKILL)
            return
        except ProcessLookupError:
            continue


async def test_sigkilled_workers_never_cause_a_double_send(
    postgres_url: str, tmp_path: Path, api_for: ApiFactory
) -> None:
    """A smoke test: what the kills hit is chance, but the verdict never is (the run must stay exact)."""
    total, kills, step = 300, 10, 12
    with running_stack(postgres_url, tmp_path) as stack:
        worker = stack.start_worker(concurrency=2)
        stack.start_beat()
        stack.admin("POST", "/faults/latency", params={"seconds": 0.05})  # the platform acts, then answers
        api = await api_for(stack)
        tid = await api.task(total)
        await api.start(tid)
        born: dict[int, float] = {}
        during = 0
        for k in range(1, kills + 1):
            # Each kill only once the pool has sent again since the last one: every kill hits a live run.
            during = await api.ledger_at_least(k * step, timeout=300)
            await _kill_a_settled_child(worker, born, api)
        await api.wait(tid, "completed", timeout=600)
        states = await assert_accounted(api, tid, total, allowed=FINAL | {"unknown"})
        print(f"\n{kills} SIGKILLs while {during} of {total} were sent; final {states}")
        assert during < total, "the kills all came after the run"


async def test_high_priority_batches_run_first_on_a_shared_worker(
    postgres_url: str, tmp_path: Path, api_for: ApiFactory
) -> None:
    with running_stack(postgres_url, tmp_path) as stack:
        api = await api_for(stack)
        low = await api.task(40, prefix="lo", priority="low")
        high = await api.task(40, prefix="hi", priority="high")
        await api.start(low)  # both queued before any worker consumes
        await api.start(high)
        stack.start_worker(concurrency=1)
        stack.start_beat()  # the ticker and recover are part of the engine: long waits need them
        await api.wait(high, "completed", timeout=300)
        await api.wait(low, "completed", timeout=300)
        order = [e.target.split("_")[0] for e in sorted(entries(stack), key=lambda e: e.seq)]
        assert order[: order.count("hi")] == ["hi"] * order.count("hi"), order


def _queues(vhost_url: str) -> dict[str, tuple[bool, int, int]]:
    """name → (durable, messages, persistent messages), as the broker reports them."""
    vhost = vhost_url.rsplit("/", 1)[1] or "/"
    columns = ["name", "durable", "messages", "messages_persistent"]
    out = subprocess.run(
        ["rabbitmqctl", "list_queues", "-p", vhost, "-q", "--no-table-headers", *columns],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    rows = (line.split() for line in out.splitlines() if line.strip())
    return {r[0]: (r[1] == "true", int(r[2]), int(r[3])) for r in rows if len(r) == 4}


async def test_stacks_sharing_a_broker_keep_to_their_own_durable_queues(
    postgres_url: str, other_postgres_url: str, tmp_path: Path, api_for: ApiFactory
) -> None:
    """Two runs on one vhost, told apart by their queue prefixes alone (the weaker of the two isolations)."""
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl is not installed: the broker's queues cannot be listed")
    with broker_vhost(AMQP_URL) as url:
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        with (
            running_stack(postgres_url, tmp_path / "a", broker_url=url) as a,
            running_stack(other_postgres_url, tmp_path / "b", broker_url=url) as b,
        ):
            api_a, api_b = await api_for(a), await api_for(b)
            tid_b = await api_b.task(5, prefix="b")
            await api_b.start(tid_b)  # B's dispatch job waits in B's queue: B has no worker
            tid_a = await api_a.task(20, prefix="a")
            await api_a.start(tid_a)
            a.start_worker(concurrency=2)
            a.start_beat()
            await api_a.wait(tid_a, "completed", timeout=300)
            queues = _queues(url)
            theirs = {name: q for name, q in queues.items() if name.startswith(a.queue_prefix)}
            mine = {name: q for name, q in queues.items() if name.startswith(b.queue_prefix)}
            # A's worker declared its three queues; B's only exists because its job was published to it.
            assert sorted(theirs) == sorted(f"{a.queue_prefix}invite-{p}" for p in ("high", "low", "normal"))
            assert list(mine) == [f"{b.queue_prefix}invite-normal"], queues
            assert all(durable for durable, _, _ in [*theirs.values(), *mine.values()]), queues
            _, waiting, persistent = mine[f"{b.queue_prefix}invite-normal"]
            assert waiting >= 1 and persistent == waiting, queues
            assert (await api_b.get(tid_b))["status"] == "running"
            b.start_worker(concurrency=1)
            await api_b.wait(tid_b, "completed", timeout=300)
