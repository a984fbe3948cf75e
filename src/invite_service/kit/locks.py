"""Named mutual-exclusion locks: ``LockManager`` with Redis and in-process implementations.

Usage (the same on both)::

    async with locks.lock(f"account:{account_id}", ttl=60, wait=30) as handle:
        ...                      # raises LockNotAcquired if not acquired within 30 s
        if not handle.held:      # Redis only: renewal failed, another holder may own it now
            return

    async with locks.try_lock(f"task:{task_id}", ttl=60) as handle:
        if handle is None:       # someone else holds it: skip
            return

Redis: ``SET key token NX PX ttl``; the token is random per acquisition. While the block
runs a background task extends the TTL every ttl/3, so a long holder keeps its lock and a
crashed one loses it after at most ttl. Extend and release run as Lua compare-and-act
scripts: a holder whose lock expired (and was taken by someone else) can neither delete nor
extend the new holder's lock; it finds ``handle.held`` False instead.

In-process: one ``asyncio.Lock`` per name, for the embedded profile (a single process). A
holder there can only vanish together with the whole process, so ``ttl`` is accepted for
interface parity and not needed.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import weakref
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)

_FAILURES = (RedisError, OSError, TimeoutError)
RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
EXTEND_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


class LockError(Exception):
    pass


class LockNotAcquired(LockError):
    """The lock was held by someone else for the whole wait (or the lock backend is down)."""

    def __init__(self, name: str, why: str = "held by another owner") -> None:
        super().__init__(f"lock {name!r} not acquired: {why}")
        self.name = name


class LockHandle:
    """One acquisition of a lock; ``held`` turns False if the lock was lost while held."""

    def __init__(self, name: str, key: str, token: str, ttl: float) -> None:
        self.name = name
        self.key = key
        self.token = token
        self.ttl = ttl
        self._lost = asyncio.Event()
        self._renewer: asyncio.Task[None] | None = None
        self._local: asyncio.Lock | None = None  # strong ref: the manager keeps locks weakly

    @property
    def held(self) -> bool:
        return not self._lost.is_set()

    def mark_lost(self) -> None:
        self._lost.set()


class LockManager(ABC):
    @asynccontextmanager
    async def lock(self, name: str, ttl: float, *, wait: float | None = 10.0) -> AsyncIterator[LockHandle]:
        """Hold ``name`` for the block; ``wait`` seconds at most to get it (None: no limit)."""
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        handle = await self._acquire(name, ttl, wait)
        try:
            yield handle
        finally:
            await self._release(handle)

    @asynccontextmanager
    async def try_lock(self, name: str, ttl: float) -> AsyncIterator[LockHandle | None]:
        """Hold ``name`` for the block if it is free right now; yields None otherwise."""
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        try:
            handle: LockHandle | None = await self._acquire(name, ttl, 0.0)
        except LockNotAcquired:
            handle = None
        if handle is None:
            yield None
            return
        try:
            yield handle
        finally:
            await self._release(handle)

    @abstractmethod
    async def extend(self, handle: LockHandle, ttl: float | None = None) -> bool:
        """Push the expiry to ``ttl`` (default: the handle's) from now, if still ours."""

    @abstractmethod
    async def _acquire(self, name: str, ttl: float, wait: float | None) -> LockHandle:
        """Acquire or raise ``LockNotAcquired`` once ``wait`` has passed."""

    @abstractmethod
    async def _release(self, handle: LockHandle) -> None:
        """Release if still ours; never raises for a lock that is already gone."""


class RedisLockManager(LockManager):
    """Locks shared by every process that talks to the same Redis (and ``prefix``)."""

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = "invite:lock:",
        retry_interval: float = 0.1,
        renew: bool = True,
        timeout: float = 2.0,
    ) -> None:
        self._client = client
        self.prefix = prefix
        self._retry_interval = retry_interval
        self._renew = renew
        self._timeout = timeout
        self._release_script = client.register_script(RELEASE_LUA)
        self._extend_script = client.register_script(EXTEND_LUA)

    def key(self, name: str) -> str:
        return self.prefix + name

    async def _acquire(self, name: str, ttl: float, wait: float | None) -> LockHandle:
        loop = asyncio.get_running_loop()
        deadline = None if wait is None else loop.time() + wait
        handle = LockHandle(name, self.key(name), secrets.token_hex(16), ttl)
        delay = min(0.005, self._retry_interval)
        while True:
            try:
                async with asyncio.timeout(self._timeout):
                    won = await self._client.set(handle.key, handle.token, nx=True, px=_ms(ttl))
            except _FAILURES as exc:
                # Fail closed: without Redis nobody can prove the lock is free.
                raise LockNotAcquired(name, f"lock backend unavailable ({type(exc).__name__})") from exc
            if won:
                break
            if deadline is not None and loop.time() >= deadline:
                raise LockNotAcquired(name)
            # Jittered, growing poll so many waiters do not hit Redis in lockstep.
            pause = delay * random.uniform(0.5, 1.5)
            if deadline is not None:
                pause = min(pause, max(0.0, deadline - loop.time()))
            await asyncio.sleep(pause)
            delay = min(delay * 2, self._retry_interval)
        if self._renew:
            handle._renewer = asyncio.create_task(self._keep_alive(handle), name=f"lock-renew:{name}")
        return handle

    async def extend(self, handle: LockHandle, ttl: float | None = None) -> bool:
        async with asyncio.timeout(self._timeout):
            args: list[str | int] = [handle.token, _ms(ttl or handle.ttl)]
            extended = await self._extend_script(keys=[handle.key], args=args)
        if not extended:
            handle.mark_lost()
        return bool(extended)

    async def _keep_alive(self, handle: LockHandle) -> None:
        """Extend every ttl/3; give up (mark lost) once the key is not ours or a whole ttl passed."""
        loop = asyncio.get_running_loop()
        last_extended = loop.time()
        while handle.held:
            await asyncio.sleep(handle.ttl / 3)
            try:
                if not await self.extend(handle):
                    log.warning("lock_lost", lock=handle.name)
                    return
                last_extended = loop.time()
            except _FAILURES as exc:
                if loop.time() - last_extended >= handle.ttl:
                    handle.mark_lost()
                    log.warning("lock_lost", lock=handle.name, error=type(exc).__name__)
                    return

    async def _release(self, handle: LockHandle) -> None:
        if handle._renewer is not None:
            handle._renewer.cancel()
            await asyncio.gather(handle._renewer, return_exceptions=True)
        try:
            async with asyncio.timeout(self._timeout):
                await self._release_script(keys=[handle.key], args=[handle.token])
        except _FAILURES as exc:
            # The key expires by its TTL; nothing else to do.
            log.warning("lock_release_failed", lock=handle.name, error=type(exc).__name__)
        handle.mark_lost()


class LocalLockManager(LockManager):
    """In-process locks for the embedded profile (same interface, asyncio locks)."""

    def __init__(self) -> None:
        # Weak values: a name's lock lives only while someone holds or awaits it.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def _acquire(self, name: str, ttl: float, wait: float | None) -> LockHandle:
        lock = self._locks.get(name)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[name] = lock
        try:
            # Lock.acquire gives the lock back if the timeout cancels it mid-handoff.
            async with asyncio.timeout(wait):
                await lock.acquire()
        except TimeoutError:
            raise LockNotAcquired(name) from None
        handle = LockHandle(name, name, secrets.token_hex(8), ttl)
        handle._local = lock
        return handle

    async def extend(self, handle: LockHandle, ttl: float | None = None) -> bool:
        return handle.held

    async def _release(self, handle: LockHandle) -> None:
        if handle._local is not None and handle.held:
            handle._local.release()
        handle.mark_lost()


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
