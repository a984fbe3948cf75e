"""Two production-shape stacks at the same time on one broker vhost: each runs its own jobs, and only those.

Normally every run gets a vhost of its own (``broker_vhost``); here both stacks share one, so the queue
prefix (``INVITE_QUEUE_PREFIX``) is all that keeps them apart — the case of deployments sharing a broker.

Who consumed a job is made visible by giving the stacks different Redis databases: a ``system.ping``
job increments its key in the Redis of the worker that ran it, so a job taken by the other stack's
workers would be counted in the other database.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis.asyncio as aioredis

from invite_service.context.jobs import Job
from invite_service.models.enums import Priority
from invite_service.workers.celery_app import CeleryJobQueue, make_celery_app
from tests.conftest import AMQP_URL, REDIS_URL, fresh_postgres
from tests.production.api import FINAL, assert_accounted, entries
from tests.production.conftest import ApiFactory
from tests.production.stack import Stack, broker_vhost, running_stack

pytestmark = [pytest.mark.asyncio]
TARGETS = 40
PINGS = 15  # per stack, spread over the three priorities


def sibling_redis(url: str) -> str:
    """The same Redis server, another database number (``/15`` → ``/14``)."""
    parts = urlsplit(url)
    db = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{db - 1 if db else 1}"))


@pytest.fixture(scope="module")
def other_postgres_url() -> Iterator[str]:
    """The second stack's database: a stack's beat dispatches every due task in its database."""
    with fresh_postgres("invite_prod_b") as url:
        yield url


def _publish_pings(stack: Stack, key: str) -> None:
    queue = CeleryJobQueue(make_celery_app(stack.settings()))
    priorities = list(Priority)
    for i in range(PINGS):
        queue.send(Job("system.ping", {"key": key}, priority=priorities[i % len(priorities)]))


async def _counts(redis_urls: dict[str, str], keys: dict[str, str]) -> dict[tuple[str, str], int]:
    """(whose job, whose worker ran it) → how many: each worker counts in its own stack's Redis."""
    found: dict[tuple[str, str], int] = {}
    for ran_by, url in redis_urls.items():
        client = aioredis.from_url(url)
        try:
            for owner, key in keys.items():
                found[(owner, ran_by)] = int(await client.get(key) or 0)
        finally:
            await client.aclose()
    return found


async def test_two_stacks_on_one_vhost_at_once_each_run_only_their_own_jobs(
    postgres_url: str, other_postgres_url: str, tmp_path: Path, api_for: ApiFactory
) -> None:
    started = time.monotonic()
    redis_urls = {"a": REDIS_URL, "b": sibling_redis(REDIS_URL)}
    keys = {side: f"test:shared-broker:{uuid.uuid4().hex[:10]}:{side}" for side in "ab"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        broker_vhost(AMQP_URL) as url,  # one vhost for both stacks
        running_stack(postgres_url, tmp_path / "a", broker_url=url, redis_url=redis_urls["a"]) as a,
        running_stack(other_postgres_url, tmp_path / "b", broker_url=url, redis_url=redis_urls["b"]) as b,
    ):
        stacks = {"a": a, "b": b}
        assert a.queue_prefix != b.queue_prefix
        apis = {side: await api_for(stack) for side, stack in stacks.items()}
        tids = {side: await api.task(TARGETS, prefix=side) for side, api in apis.items()}
        # Everything is queued before any worker runs: each stack's workers start with the other's
        # dispatch jobs and pings waiting on the same broker, within reach if the prefixes leaked.
        for side, stack in stacks.items():
            _publish_pings(stack, keys[side])
            await apis[side].start(tids[side])
        for stack in stacks.values():
            stack.start_worker(concurrency=1)
            stack.start_beat()
        try:

            async def pinged() -> bool:
                counts = await _counts(redis_urls, keys)
                return sum(counts.values()) >= 2 * PINGS

            await apis["a"].until(pinged, 60, f"{2 * PINGS} pings run")
            await asyncio.sleep(1)  # a ping run twice would have counted by now
            # Every ping ran once, by a worker of the stack that published it.
            assert await _counts(redis_urls, keys) == {
                ("a", "a"): PINGS,
                ("a", "b"): 0,
                ("b", "a"): 0,
                ("b", "b"): PINGS,
            }
            await asyncio.gather(*(apis[s].wait(tids[s], "completed", timeout=120) for s in stacks))
            # Each stack's task ran to completion on its own stack: every target accounted for, none
            # acted on twice, and its Integration Service saw its own targets only.
            for side, stack in stacks.items():
                states = await assert_accounted(apis[side], tids[side], TARGETS, allowed=FINAL)
                acted = Counter(e.target.split("_")[0] for e in entries(stack))
                assert set(acted) == {side} and acted[side] >= states.get("invited", 0), (acted, states)
                assert states.get("invited", 0) > TARGETS // 2, states  # mostly real invites, not refusals
        finally:
            for redis_url in redis_urls.values():
                client = aioredis.from_url(redis_url)
                await client.delete(*keys.values())
                await client.aclose()
    took = time.monotonic() - started
    print(f"\ntwo stacks on one vhost, {TARGETS} targets and {PINGS} pings each: {took:.1f} s")
