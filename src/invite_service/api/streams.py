"""A cap on each user's open event streams (``GET /tasks/{id}/events``), and a response that gives its
slot back as soon as the client goes away.

Each open stream holds a connection, a progress-bus subscription and a database read per heartbeat, for as
long as the client keeps it; without a cap one user could hold thousands (security finding 10). The count
is per API process: behind N processes a user may hold up to N times the cap, and each process is bounded.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, Callable, Mapping

import anyio
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from invite_service.errors import TooManyRequests

# What a refused client is told to wait: the event stream's own reconnect delay (statistics.events.RETRY_MS).
RETRY_AFTER_SECONDS = 5


class StreamSlots:
    """Open streams per user in this process; ``acquire`` refuses the one over ``per_user`` with a 429."""

    def __init__(self, per_user: int) -> None:
        self.per_user = per_user
        self._open: dict[str, int] = {}

    def open_for(self, user: str) -> int:
        return self._open.get(user, 0)

    def acquire(self, user: str) -> Callable[[], None]:
        """A slot for ``user``; call the returned function (any number of times) to give it back."""
        held = self._open.get(user, 0)
        if held >= self.per_user:
            raise TooManyRequests(
                f"At most {self.per_user} event streams can be open at once; close one first.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self._open[user] = held + 1
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            left = self._open.get(user, 1) - 1
            if left > 0:
                self._open[user] = left
            else:
                self._open.pop(user, None)

        return release


class EventStreamResponse(StreamingResponse):
    """A stream that stops the moment the client disconnects, then calls ``on_close``.

    Starlette's own response notices a gone client only when a write fails (under ASGI 2.4), i.e. up to a
    heartbeat later; this one listens for ``http.disconnect`` while it streams, as Starlette does for older
    servers, so the generator is closed and the slot returned at once.
    """

    def __init__(
        self,
        content: AsyncIterable[bytes],
        *,
        on_close: Callable[[], None],
        media_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(content, media_type=media_type, headers=headers)
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:

                async def stream() -> None:
                    with contextlib.suppress(OSError):  # the client went away mid-write: a disconnect
                        await self.stream_response(send)
                    group.cancel_scope.cancel()

                group.start_soon(stream)
                await self.listen_for_disconnect(receive)
                group.cancel_scope.cancel()
        finally:
            self._on_close()
