"""The async bridge for Celery: one event loop and one runtime per worker process.

Celery calls jobs synchronously; each job runs to completion on the process's own loop,
so the database engine, Redis clients and httpx pools are made once and reused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from invite_service.context.runtime import Runtime

T = TypeVar("T")
RuntimeBuilder = Callable[[], Awaitable[Runtime]]


class WorkerProcess:
    """A worker process's loop and runtime. Celery forks children after the app is made, so each
    child resets this in ``worker_process_init`` and builds its own runtime on the first job."""

    def __init__(self, build_runtime: RuntimeBuilder | None) -> None:
        self._build_runtime = build_runtime
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runtime: Runtime | None = None

    def init(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._runtime = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None or self._loop.is_closed():
            self.init()
        assert self._loop is not None
        return self._loop.run_until_complete(coro)

    async def runtime(self) -> Runtime:
        if self._runtime is None:
            if self._build_runtime is None:
                raise RuntimeError(
                    "this Celery app publishes jobs only; run jobs with `invite-service worker`"
                )
            self._runtime = await self._build_runtime()
        return self._runtime

    def shutdown(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            if self._runtime is not None:
                self._loop.run_until_complete(self._runtime.aclose())
                self._loop.run_until_complete(self._runtime.db.dispose())
            self._loop.close()
        self._loop, self._runtime = None, None
