"""Live progress: the engine publishes task events; the events stream (SSE) subscribes.

In process for the embedded profile; Redis pub/sub when ``INVITE_REDIS_URL`` is set, so a
worker process's events reach the API process that serves the stream.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import structlog
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)
CHANNEL_PREFIX = "invite:progress:"


class ProgressBus(ABC):
    def __init__(self) -> None:
        self._inflight: set[asyncio.Task[None]] = set()

    @abstractmethod
    async def publish(self, task_id: uuid.UUID, event: dict[str, Any]) -> None: ...

    def publish_nowait(self, task_id: uuid.UUID, event: dict[str, Any]) -> None:
        """Publish from synchronous code (the after-commit hook); ``drain`` awaits the sends."""
        task = asyncio.get_running_loop().create_task(self.publish(task_id, event))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def drain(self) -> None:
        """Wait for every ``publish_nowait`` still under way (end of a job)."""
        while self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)

    @abstractmethod
    def subscribe(self, task_id: uuid.UUID) -> AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]:
        """``async with bus.subscribe(task_id) as events: async for event in events: …``"""

    async def aclose(self) -> None:
        return None


class LocalProgressBus(ProgressBus):
    """Fan-out to in-process subscribers; a slow subscriber drops its oldest events, never blocks."""

    def __init__(self, queue_size: int = 256) -> None:
        super().__init__()
        self._subscribers: dict[uuid.UUID, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._queue_size = queue_size

    async def publish(self, task_id: uuid.UUID, event: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(task_id, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

    @asynccontextmanager
    async def subscribe(self, task_id: uuid.UUID) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._queue_size)
        self._subscribers[task_id].add(queue)

        async def events() -> AsyncIterator[dict[str, Any]]:
            while True:
                yield await queue.get()

        try:
            yield events()
        finally:
            self._subscribers[task_id].discard(queue)
            if not self._subscribers[task_id]:
                self._subscribers.pop(task_id, None)


class RedisProgressBus(ProgressBus):
    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        super().__init__()
        self._redis = aioredis.from_url(url, socket_connect_timeout=2, socket_timeout=5)

    async def publish(self, task_id: uuid.UUID, event: dict[str, Any]) -> None:
        try:
            await self._redis.publish(CHANNEL_PREFIX + str(task_id), json.dumps(event, default=str))
        except Exception as exc:  # noqa: BLE001 - progress is best effort; the database has the truth
            log.warning("progress_publish_failed", error=type(exc).__name__)

    @asynccontextmanager
    async def subscribe(self, task_id: uuid.UUID) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(CHANNEL_PREFIX + str(task_id))

        async def events() -> AsyncIterator[dict[str, Any]]:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield json.loads(message["data"])

        try:
            yield events()
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def aclose(self) -> None:
        await self._redis.aclose()


_OUTBOX = "progress_outbox"


def defer_event(
    session: AsyncSession | Session, bus: ProgressBus, task_id: uuid.UUID, event: dict[str, Any]
) -> None:
    """Publish ``event`` once the session commits (dropped on rollback): nobody hears of a
    change that did not happen."""
    session.info.setdefault(_OUTBOX, []).append((bus, task_id, event))


@sa_event.listens_for(Session, "after_commit")
def _send_outbox(session: Session) -> None:
    for bus, task_id, event in session.info.pop(_OUTBOX, []):
        bus.publish_nowait(task_id, event)


@sa_event.listens_for(Session, "after_rollback")
def _drop_outbox(session: Session) -> None:
    session.info.pop(_OUTBOX, None)
