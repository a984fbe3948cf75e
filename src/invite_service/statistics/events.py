"""``GET /tasks/{id}/events``: a task's state and counters as Server-Sent Events.

The stream, in order:
* ``retry: 5000`` — how long a client waits before reconnecting after a drop;
* ``event: snapshot`` — the task as it is now, read AFTER subscribing to the progress bus, so no
  change can fall between the snapshot and the first update;
* ``event: progress`` / ``event: status`` — every event the engine publishes after a commit (target
  outcomes and state changes; ``kit.progress``), as published;
* ``: heartbeat`` comment lines when nothing happened for ``HEARTBEAT_SECONDS``, which keep proxies
  from closing an idle connection; at each, the task is re-read from the database, because the bus
  is best effort (a slow subscriber drops its oldest events; Redis pub/sub does not store them);
* ``event: end`` — once the task is completed, cancelled or failed (or deleted): its final state,
  after which the server closes the stream. A reconnect to a finished task gets snapshot and end.

Every data line is one JSON object: ``type``, ``task_id``, ``status``, ``pause_reason``,
``counters`` and ``progress``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from invite_service.context.runtime import Runtime
from invite_service.db import Database
from invite_service.statistics.service import TERMINAL
from invite_service.stores import tasks as task_store
from invite_service.stores.counters import status_event

HEARTBEAT_SECONDS = 15.0
RETRY_MS = 5000
DELETED = "deleted"


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n".encode()


async def snapshot(db: Database, task_id: uuid.UUID, kind: str) -> dict[str, Any]:
    async with db.session() as session:
        task = await task_store.task(session, task_id)
        if task is None:
            return {"type": kind, "task_id": str(task_id), "status": DELETED}
        return status_event(task, await task_store.counters(session, task_id), kind)


def _final(status: object) -> bool:
    return status in TERMINAL or status == DELETED


async def stream(db: Database, rt: Runtime, task_id: uuid.UUID) -> AsyncIterator[bytes]:
    """The event stream of one task (ownership is checked by the endpoint before it starts)."""
    yield f"retry: {RETRY_MS}\n\n".encode()
    async with rt.progress.subscribe(task_id) as events:
        current = await snapshot(db, task_id, "snapshot")
        yield sse("snapshot", current)
        if _final(current["status"]):
            yield sse("end", {**current, "type": "end"})
            return
        updates = aiter(events)
        pending: asyncio.Future[dict[str, Any]] | None = None
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(anext(updates))
                done, _ = await asyncio.wait({pending}, timeout=HEARTBEAT_SECONDS)
                if not done:  # quiet: keep the connection alive, and check the database
                    current = await snapshot(db, task_id, "end")
                    if _final(current["status"]):
                        yield sse("end", current)
                        return
                    yield b": heartbeat\n\n"
                    continue
                event, pending = pending.result(), None
                kind = str(event.get("type") or "progress")
                yield sse(kind, event)
                if _final(event.get("status")):
                    # The final counters from the database (the event carries the same commit's).
                    yield sse("end", await snapshot(db, task_id, "end"))
                    return
        finally:
            if pending is not None:
                pending.cancel()
                await asyncio.gather(pending, return_exceptions=True)
