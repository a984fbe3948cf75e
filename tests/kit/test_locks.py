"""LockManager: mutual exclusion on Redis and in process; tokens, expiry and renewal on Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from invite_service.kit.locks import LocalLockManager, LockManager, LockNotAcquired, RedisLockManager
from tests.conftest import REDIS_URL, free_port, require_service


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 10.0) -> bool:
    """Poll until ``check`` holds (for Redis expiry, which only real time can bring)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.02)
    return False


@pytest.fixture
async def redis_clients() -> AsyncIterator[list[Redis]]:
    """Three clients: three "processes" contending for the same locks."""
    require_service("Redis", "127.0.0.1", 6379)
    clients = [Redis.from_url(REDIS_URL) for _ in range(3)]
    yield clients
    for client in clients:
        await client.aclose()


@pytest.fixture
def prefix() -> str:
    return f"test:lock:{uuid.uuid4().hex[:10]}:"  # our own keys only; they expire by TTL


@pytest.fixture(params=["redis", "local"])
def managers(request: pytest.FixtureRequest) -> list[LockManager]:
    if request.param == "local":
        return [LocalLockManager()]
    clients: list[Redis] = request.getfixturevalue("redis_clients")
    prefix: str = request.getfixturevalue("prefix")
    return [RedisLockManager(c, prefix=prefix, retry_interval=0.02) for c in clients]


async def test_holders_never_overlap(managers: list[LockManager]) -> None:
    inside = max_inside = counter = 0

    async def work(manager: LockManager) -> None:
        nonlocal inside, max_inside, counter
        async with manager.lock("shared", ttl=10, wait=60):
            inside += 1
            max_inside = max(max_inside, inside)
            seen = counter
            await asyncio.sleep(0.001)  # another task runs here if the lock let it in
            counter = seen + 1
            inside -= 1

    await asyncio.gather(*(work(managers[i % len(managers)]) for i in range(30)))
    assert max_inside == 1
    assert counter == 30


async def test_try_lock_skips_while_held_and_lock_gives_up_after_wait(managers: list[LockManager]) -> None:
    holder, other = managers[0], managers[-1]
    async with holder.lock("busy", ttl=10) as handle:
        assert handle.held
        async with other.try_lock("busy", ttl=10) as skipped:
            assert skipped is None
        with pytest.raises(LockNotAcquired):
            await _hold_briefly(other, "busy", wait=0.1)
        async with other.try_lock("another-name", ttl=10) as free:
            assert free is not None
    assert not handle.held  # released
    async with other.try_lock("busy", ttl=10) as taken:
        assert taken is not None


async def test_expired_holder_cannot_release_or_extend_the_new_holders_lock(
    redis_clients: list[Redis], prefix: str
) -> None:
    client = redis_clients[0]
    stalled = RedisLockManager(redis_clients[1], prefix=prefix, renew=False)  # stopped renewing
    successor = RedisLockManager(redis_clients[2], prefix=prefix)
    key = stalled.key("account:1")
    old_block = stalled.lock("account:1", ttl=0.2)
    old = await old_block.__aenter__()
    assert await eventually(lambda: _gone(client, key))  # its TTL ran out while it was stalled
    async with successor.lock("account:1", ttl=10, wait=1) as new:
        assert not await stalled.extend(old)
        await old_block.__aexit__(None, None, None)  # the stalled holder's block ends: it releases
        assert await client.get(key) == new.token.encode()
        assert new.held
        assert not old.held
    assert await client.get(key) is None  # the successor released its own lock


async def test_renewal_keeps_the_lock_past_its_ttl(redis_clients: list[Redis], prefix: str) -> None:
    client = redis_clients[0]
    renewing = RedisLockManager(redis_clients[1], prefix=prefix)
    contender = RedisLockManager(redis_clients[2], prefix=prefix)
    # A TTL that a busy machine's scheduling delays cannot eat (renewal comes every third of it).
    async with renewing.lock("long-job", ttl=1.5) as handle:
        await asyncio.sleep(5.0)  # more than three TTLs
        assert handle.held
        assert await client.get(renewing.key("long-job")) == handle.token.encode()
        async with contender.try_lock("long-job", ttl=1) as other:
            assert other is None
    # Control: the same TTL without renewal does run out while the block is still running.
    plain = RedisLockManager(redis_clients[1], prefix=prefix, renew=False)
    async with plain.lock("short-job", ttl=0.6):
        assert await eventually(lambda: _gone(client, plain.key("short-job")))


async def test_a_renewing_holder_notices_it_lost_the_lock(redis_clients: list[Redis], prefix: str) -> None:
    manager = RedisLockManager(redis_clients[1], prefix=prefix)
    async with manager.lock("job", ttl=0.3) as handle:
        await redis_clients[0].set(manager.key("job"), "someone-else")  # e.g. taken after a long pause

        async def lost() -> bool:
            return not handle.held

        assert await eventually(lost)
    assert await redis_clients[0].get(manager.key("job")) == b"someone-else"


async def test_redis_down_means_not_acquired() -> None:
    # Nothing listens on a fresh free port: the backend is down, so nobody may hold the lock.
    client = Redis(host="127.0.0.1", port=free_port(), retry=Retry(NoBackoff(), 0), socket_connect_timeout=1)
    manager = RedisLockManager(client, timeout=1)
    try:
        with pytest.raises(LockNotAcquired):
            await _hold_briefly(manager, "x", wait=0.2)
        async with manager.try_lock("x", ttl=5) as handle:
            assert handle is None
    finally:
        await client.aclose()


async def _gone(client: Redis, key: str) -> bool:
    return not await client.exists(key)


async def _hold_briefly(manager: LockManager, name: str, *, wait: float) -> None:
    async with manager.lock(name, ttl=5, wait=wait):
        pass
