"""CPU per send, in process (issue 17, the send path's statements).

One ``process_batch`` of N sends on one account, caps lifted, PostgreSQL and the Redis limiter, run in
this process with the simulated platform (no HTTP), so what is measured is the worker's own CPU: the
engine, SQLAlchemy, the drivers. Two runs in the same process, alternating, best of ROUNDS each:

- baseline: the send path's reads built for every send, as they were before (the statement caches
  ``send_path._GATES`` and ``send_path._TASK_AND_LANE`` forced to miss);
- now: built once per shape, executed with values.

Printed as CPU ms per send and the ratio now / baseline.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from redis.asyncio import Redis
from tests.execution.harness import make_harness
from tests.execution.test_round_trips import ok_names

from bench.common import redis_db, temp_postgres
from invite_service.config import PlatformCaps, Settings
from invite_service.execution import engine
from invite_service.execution.jobspec import PROCESS_BATCH
from invite_service.kit.locks import RedisLockManager
from invite_service.limits.redis import RedisRateLimiter
from invite_service.stores import send_path
from invite_service.workers.jobs import run_job

N = 300
ROUNDS = 3
LIFTED = PlatformCaps(
    invites_per_hour=1_000_000,
    invites_per_day=10_000_000,
    messages_per_hour=1_000_000,
    messages_per_day=10_000_000,
)


class _NeverKept(dict[Any, Any]):
    """A statement cache that keeps nothing: every send builds its statement again."""

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


class _BuiltEachTime(Mapping[bool, Any]):
    def __getitem__(self, for_update: bool) -> Any:
        return send_path._task_and_lane_statement(for_update)

    def __iter__(self) -> Iterator[bool]:
        return iter((False, True))

    def __len__(self) -> int:
        return 2


@contextmanager
def built_per_send() -> Iterator[None]:
    gates, task_and_lane = send_path._GATES, send_path._TASK_AND_LANE
    send_path._GATES, send_path._TASK_AND_LANE = _NeverKept(), _BuiltEachTime()  # type: ignore[assignment]
    try:
        yield
    finally:
        send_path._GATES, send_path._TASK_AND_LANE = gates, task_and_lane


async def one_batch(db_url: str, redis_url: str) -> float:
    """CPU seconds per send of one batch of N."""
    settings = Settings(
        database_url=db_url, log_level="WARNING", platform_caps={"sandbox": LIFTED}, batch_size=N
    )
    h = await make_harness(db_url, settings=settings)
    redis = Redis.from_url(redis_url)
    prefix = f"bench:send:{uuid.uuid4().hex[:8]}:"
    try:
        h.rt.limiter = RedisRateLimiter(redis, prefix=prefix + "rl:", rebuild_grace_seconds=0)
        h.rt.locks = RedisLockManager(redis, prefix=prefix + "lock:", renew=False)
        async with h.rt.db.session() as s:
            await h.rt.limiter.rebuild_from_ledger(s, h.clock.now())
        [account] = await h.accounts(1)
        task_id = await h.task(N, [account], usernames=ok_names(N))
        await h.control(task_id, "start")
        await engine.tick(h.rt)
        await engine.dispatch(h.rt, str(task_id))
        [job] = [j for _due, _seq, j in h.queue._heap if j.name == PROCESS_BATCH]
        started = time.process_time()
        await run_job(h.rt, job.name, job.kwargs)
        cpu = time.process_time() - started
        sent = (await h.target_states(task_id)).get("invited", 0)
        assert sent == N, f"only {sent} of {N} sent"
        return cpu / N
    finally:
        await h.rt.db.dispose()
        await redis.aclose()


def main() -> None:
    with temp_postgres() as pg, redis_db() as redis_url:
        from invite_service.migrations import runner

        runner.upgrade(pg)
        asyncio.run(one_batch(pg, redis_url))  # warm-up: imports, pools, compiled-statement cache
        baseline: list[float] = []
        now: list[float] = []
        for _ in range(ROUNDS):
            with built_per_send():
                baseline.append(asyncio.run(one_batch(pg, redis_url)))
            now.append(asyncio.run(one_batch(pg, redis_url)))
    b, n = min(baseline) * 1000, min(now) * 1000
    print(
        f"[send cpu] {N} sends in one batch, in process (PostgreSQL, Redis limiter, simulated platform), "
        f"best of {ROUNDS}"
    )
    print(f"[send cpu] reads built for every send (baseline): {b:.2f} ms CPU per send")
    print(f"[send cpu] reads built once per shape: {n:.2f} ms CPU per send = {n / b:.2f}x the baseline")


if __name__ == "__main__":
    main()
