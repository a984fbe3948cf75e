"""``Runtime``: the implementations one process works with, as built by ``runtime.build_runtime``.

Feature and engine code take a ``Runtime`` and ask it for a field (limiter, locks, progress bus,
adapters, job queue, where the Parsing Service answers); none of them looks at a backend URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from redis.asyncio import Redis

from invite_service.adapters.registry import AdapterRegistry
from invite_service.config import Settings
from invite_service.context.jobs import JobQueue, session_info
from invite_service.db import Database
from invite_service.kit.clock import Clock
from invite_service.kit.faults import FaultPoints
from invite_service.kit.locks import LockManager
from invite_service.kit.memo import TtlMemo
from invite_service.kit.progress import ProgressBus
from invite_service.limits.base import RateLimiter
from invite_service.limits.redis import RedisRateLimiter


@dataclass(frozen=True)
class ServiceEndpoint:
    """Where a sibling service answers: its base URL, and for a service served in this process (the
    embedded profile's sandboxes) the ASGI app that answers without sockets."""

    base_url: str
    app: Any = None  # an ASGI application

    def transport(self) -> httpx.AsyncBaseTransport | None:
        """The transport of a client for this endpoint (None: the network)."""
        return httpx.ASGITransport(app=self.app) if self.app is not None else None


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
    parsing: ServiceEndpoint | None = None
    faults: FaultPoints = field(default_factory=FaultPoints)
    # The status's ETA reads every lane's ledger and simulates the lanes: tens of milliseconds for dozens of
    # busy accounts. It moves slowly and the status is polled, so it is kept per task version (a pause,
    # resume or edit makes a new one) for a few seconds; counters and lane states stay live.
    estimates: TtlMemo = field(default_factory=lambda: TtlMemo(ttl_seconds=10.0, max_entries=1024))
    # The shared Redis client when the deployment has Redis (the limiter, locks and probes use it).
    redis: Redis | None = None

    def use_jobs(self, jobs: JobQueue) -> None:
        """Bind the job queue: sessions of this runtime's database publish deferred jobs to it (and only
        this runtime's: another runtime over the same database keeps its own queue)."""
        self.jobs = jobs
        self.db = self.db.with_session_info(**session_info(jobs))

    async def start(self) -> None:
        """Start-up work: Redis limit state is rebuilt from the ledger (the source of truth)."""
        if isinstance(self.limiter, RedisRateLimiter):
            async with self.db.session() as session:
                await self.limiter.rebuild_from_ledger(session, self.clock.now())

    async def aclose(self) -> None:
        await self.progress.aclose()
        await self.adapters.aclose()
        if self.redis is not None:
            await self.redis.aclose()
