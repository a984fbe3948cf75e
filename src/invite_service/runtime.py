"""The composition root: which implementation serves each interface, chosen by the settings' URLs.

Feature code asks for a ``Runtime`` field (limiter, locks, progress bus, adapters, job queue);
only this module looks at ``INVITE_REDIS_URL``, ``INVITE_BROKER_URL`` and friends.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from invite_service.adapters.factory import AdapterRegistry
from invite_service.config import Settings
from invite_service.db import Database
from invite_service.execution.policy import Tuning
from invite_service.kit.clock import Clock
from invite_service.kit.faults import FaultPoints
from invite_service.kit.locks import LocalLockManager, LockManager, RedisLockManager
from invite_service.kit.progress import LocalProgressBus, ProgressBus, RedisProgressBus
from invite_service.kit.rate_limit.base import RateLimiter
from invite_service.kit.rate_limit.redis import RedisRateLimiter
from invite_service.kit.rate_limit.sql import SqlRateLimiter
from invite_service.workers.enqueue import JobQueue, bind


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Clock
    limiter: RateLimiter
    locks: LockManager
    progress: ProgressBus
    adapters: AdapterRegistry
    jobs: JobQueue | None = None
    tuning: Tuning = field(default_factory=Tuning)
    faults: FaultPoints = field(default_factory=FaultPoints)

    def use_jobs(self, jobs: JobQueue) -> None:
        """Bind the job queue: sessions of this runtime's database publish deferred jobs to it."""
        self.jobs = jobs
        bind(self.db.sessionmaker.kw.setdefault("info", {}), jobs)

    async def start(self) -> None:
        """Start-up work: Redis limit state is rebuilt from the ledger (the source of truth)."""
        if isinstance(self.limiter, RedisRateLimiter):
            async with self.db.session() as s:
                await self.limiter.rebuild_from_ledger(s, self.clock.now())

    async def aclose(self) -> None:
        await self.progress.aclose()
        await self.adapters.aclose()


def build_runtime(
    settings: Settings, db: Database, *, clock: Clock | None = None, adapters: AdapterRegistry | None = None
) -> Runtime:
    if settings.redis_url:
        import redis.asyncio as aioredis

        # A blocking pool: when every connection is busy a caller waits instead of failing, which the
        # limiter would have to read as "Redis down" and deny.
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.redis_url, max_connections=64, timeout=5, socket_connect_timeout=2, socket_timeout=5
        )
        client = aioredis.Redis(connection_pool=pool)
        limiter: RateLimiter = RedisRateLimiter(client)
        locks: LockManager = RedisLockManager(client)
        progress: ProgressBus = RedisProgressBus(settings.redis_url)
    else:
        limiter, locks, progress = SqlRateLimiter(), LocalLockManager(), LocalProgressBus()
    return Runtime(
        settings=settings,
        db=db,
        clock=clock or Clock(),
        limiter=limiter,
        locks=locks,
        progress=progress,
        adapters=adapters or AdapterRegistry(settings),
        faults=FaultPoints(settings.fault_dir or None),
        tuning=Tuning(
            flood_buffer_ratio=settings.flood_buffer_ratio,
            flood_buffer_seconds=settings.flood_buffer_seconds,
            restriction_hours=settings.restriction_hours,
            transient_backoff_seconds=settings.transient_backoff_seconds,
        ),
    )
