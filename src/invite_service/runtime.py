"""The composition root: which implementation serves each interface, chosen by the settings' URLs.

Only this module looks at ``INVITE_REDIS_URL``, ``INVITE_BROKER_URL``, ``INVITE_INTEGRATION_URL``,
``INVITE_PARSING_URL`` and friends. It builds the ``Runtime`` (``context/runtime.py``) every process
works with: the API (``main.py``), each Celery worker process (``worker_app``) and tests/benchmarks on
a simulated clock.
"""

from __future__ import annotations

import redis.asyncio as aioredis
import structlog
from celery import Celery

from invite_service.adapters.registry import AdapterBuilder, AdapterRegistry
from invite_service.adapters.telegram.adapter import TelegramAdapter
from invite_service.config import ConfigError, Settings, get_settings
from invite_service.context.jobs import JobQueue
from invite_service.context.runtime import Runtime, ServiceEndpoint
from invite_service.db import Database
from invite_service.imports.file_limits import parsing_token_secret
from invite_service.kit.clock import Clock
from invite_service.kit.faults import FaultPoints
from invite_service.kit.locks import LocalLockManager, LockManager, RedisLockManager
from invite_service.kit.progress import LocalProgressBus, ProgressBus, RedisProgressBus
from invite_service.limits.base import RateLimiter
from invite_service.limits.redis import RedisRateLimiter
from invite_service.limits.sql import SqlRateLimiter
from invite_service.models.enums import Platform
from invite_service.sandbox.adapter import SandboxAdapter, embedded_simulator
from invite_service.sandbox.parsing_app import create_parsing_app
from invite_service.workers.celery_app import CeleryJobQueue, make_celery_app
from invite_service.workers.local import BackgroundRunner, LocalJobQueue

log = structlog.get_logger(__name__)


def warn_if_simulated(settings: Settings) -> None:
    """Production on simulators (INVITE_ALLOW_SANDBOX) says so loudly at every process start: nothing is
    really sent, and that must never be a surprise."""
    if not settings.embedded and settings.simulated:
        log.warning(
            "simulators_in_use",
            simulated=settings.simulated,
            profile=settings.profile.value,
            detail="INVITE_ALLOW_SANDBOX is true: these are simulated, nothing is really sent through them",
        )


def build_adapters(settings: Settings) -> AdapterRegistry:
    """``telegram``: the Integration Service when ``INVITE_INTEGRATION_URL`` is set, else an in-process
    simulator (so the embedded profile runs Telegram tasks end to end); ``sandbox``: an in-process
    simulator, pushing back above ``platform_caps["sandbox"]``, registered only where it is offered
    (not in production without INVITE_ALLOW_SANDBOX)."""

    def telegram() -> TelegramAdapter | SandboxAdapter:
        if settings.integration_url:
            return TelegramAdapter.from_settings(settings)
        simulator = embedded_simulator(settings.caps_for(Platform.TELEGRAM))
        return SandboxAdapter(simulator, platform=Platform.TELEGRAM)

    def sandbox() -> SandboxAdapter:
        simulator = embedded_simulator(settings.caps_for(Platform.SANDBOX))
        return SandboxAdapter(simulator, platform=Platform.SANDBOX)

    builders: dict[str, AdapterBuilder] = {Platform.TELEGRAM: telegram}
    if Platform.SANDBOX in settings.offered_platforms:
        builders[Platform.SANDBOX] = sandbox
    return AdapterRegistry(builders)


def build_parsing(settings: Settings) -> ServiceEndpoint:
    """The Parsing Service at ``INVITE_PARSING_URL``; without one, the sandbox in this process (ASGI, no
    sockets; its state, faults included, is the app's ``state.parsing_sandbox``)."""
    if settings.parsing_url:
        return ServiceEndpoint(settings.parsing_url)
    app = create_parsing_app(token_secret=parsing_token_secret(settings))
    return ServiceEndpoint("http://parsing.sandbox", app=app)


def build_runtime(
    settings: Settings, db: Database, *, clock: Clock | None = None, adapters: AdapterRegistry | None = None
) -> Runtime:
    if settings.redis_url:
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
        client = None
        limiter, locks, progress = SqlRateLimiter(), LocalLockManager(), LocalProgressBus()
    return Runtime(
        settings=settings,
        db=db,
        clock=clock or Clock(),
        limiter=limiter,
        locks=locks,
        progress=progress,
        adapters=adapters or build_adapters(settings),
        parsing=build_parsing(settings),
        faults=FaultPoints(settings.fault_dir or None),
        redis=client,
    )


def runs_jobs_in_process(settings: Settings) -> bool:
    """Embedded: with no broker, the API process is also the worker and the beat."""
    return not settings.broker_url


def build_job_queue(settings: Settings, runner: BackgroundRunner, runtime: Runtime) -> JobQueue:
    """Celery on the broker when ``INVITE_BROKER_URL`` is set, else the in-process runner."""
    if runs_jobs_in_process(settings):
        return LocalJobQueue(runner, runtime)
    return CeleryJobQueue(make_celery_app(settings))


async def _worker_runtime() -> Runtime:
    """One Celery worker process's runtime, built inside its event loop (so clients bind to it)."""
    settings = get_settings()
    rt = build_runtime(settings, Database(settings.database_url, pool_size=settings.database_pool_size))
    rt.use_jobs(CeleryJobQueue(make_celery_app(settings)))
    await rt.start()
    return rt


def worker_app(settings: Settings) -> Celery:
    """The Celery app a worker or beat process runs: its jobs build this process's runtime on first use."""
    if not settings.broker_url:
        raise ConfigError("INVITE_BROKER_URL is empty; the embedded profile runs jobs in `serve`")
    warn_if_simulated(settings)
    return make_celery_app(settings, build_runtime=_worker_runtime)
