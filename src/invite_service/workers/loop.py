"""The async bridge for Celery: one event loop and one runtime per worker process.

Celery calls jobs synchronously; each job runs to completion on the process's own loop,
so the database engine, Redis clients and httpx pools are made once and reused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from invite_service.runtime import Runtime

T = TypeVar("T")
_loop: asyncio.AbstractEventLoop | None = None
_runtime: Runtime | None = None


def init_process() -> None:
    """Called in ``worker_process_init``: a fresh loop and runtime for this child process."""
    global _loop, _runtime
    _loop = asyncio.new_event_loop()
    asyncio.set_event_loop(_loop)
    _runtime = None


def run(coro: Coroutine[Any, Any, T]) -> T:
    global _loop
    if _loop is None or _loop.is_closed():
        init_process()
    assert _loop is not None
    return _loop.run_until_complete(coro)


async def runtime() -> Runtime:
    """This process's runtime, built on first use (inside the loop, so clients bind to it)."""
    global _runtime
    if _runtime is None:
        from invite_service.config import get_settings
        from invite_service.db import Database
        from invite_service.runtime import build_runtime
        from invite_service.workers.celery_app import CeleryJobQueue, celery_for

        settings = get_settings()
        rt = build_runtime(settings, Database(settings.database_url, pool_size=settings.database_pool_size))
        rt.use_jobs(CeleryJobQueue(celery_for(settings)))
        await rt.start()
        _runtime = rt
    return _runtime


def shutdown() -> None:
    global _loop, _runtime
    if _loop is not None and not _loop.is_closed():
        if _runtime is not None:
            _loop.run_until_complete(_runtime.aclose())
            _loop.run_until_complete(_runtime.db.dispose())
        _loop.close()
    _loop, _runtime = None, None
