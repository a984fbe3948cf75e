"""Guards in front of the routes, as pure ASGI middleware: they act before any body is read.

* ``MethodGuard``: a method outside ``KNOWN_METHODS`` is a 405 problem+json before routing. Without it the
  API's catch-all route answered 404/422 to any token a client sent as the method, and every such token
  became a Prometheus label for the life of the process (security finding 3).
* ``BodyGuard``: every request body is capped while it arrives (413; a declared Content-Length over the
  cap is refused before a byte is read) and a body that stops arriving is given up on (408), so neither
  a huge nor a stalled body can hold memory, a worker slot or a temp file (findings 4 and 5). Uploads
  raise the cap for their route (``kit.tabular.upload.BODY_LIMIT_SCOPE_KEY``); everything else is JSON
  and gets ``Settings.request_max_json_bytes``.

An error found while reading the body is raised to the code reading it (which stops reading), and the
answer the app then gives (FastAPI turns any body error into a 400) is replaced by ours. The connection is
left open: uvicorn reads and discards the rest of a refused body (nothing is kept). Closing it instead
would reset the connection under a client still sending, which nginx reports as a 502, not our answer.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from invite_service.errors import AppError, MethodNotAllowed, PayloadTooLarge, RequestTimeout, problem
from invite_service.kit.tabular.upload import BODY_LIMIT_SCOPE_KEY

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
ALLOW = ", ".join(sorted(KNOWN_METHODS))


async def _answer(error: AppError, scope: Scope, receive: Receive, send: Send) -> None:
    response = problem(
        Request(scope),
        status=error.status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        headers=error.headers,
    )
    await response(scope, receive, send)


class MethodGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in KNOWN_METHODS:
            refused = MethodNotAllowed(
                f"The method is not one this service answers ({ALLOW}).", headers={"Allow": ALLOW}
            )
            await _answer(refused, scope, receive, send)
            return
        await self.app(scope, receive, send)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is larger than the {limit // (1024 * 1024)} MiB limit.")


class BodyGuard:
    def __init__(self, app: ASGIApp, *, max_bytes: int, idle_timeout_seconds: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.idle_timeout = idle_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        received = 0
        complete = False
        started = False
        error: AppError | None = None

        def fail(exc: AppError) -> AppError:
            nonlocal error
            error = exc
            return exc

        async def guarded_receive() -> Message:
            nonlocal received, complete
            if complete:  # the body is in; later receives wait for the disconnect, as long as it takes
                return await receive()
            # Read lazily: by the first receive the route is known, and an upload route has raised the cap.
            limit = int(scope.get(BODY_LIMIT_SCOPE_KEY) or self.max_bytes)
            if declared is not None and declared > limit:
                raise fail(_too_large(limit))
            try:
                async with asyncio.timeout(self.idle_timeout):
                    message = await receive()
            except TimeoutError:
                raise fail(
                    RequestTimeout(
                        f"No part of the request body arrived for {self.idle_timeout:g} s; send it again."
                    )
                ) from None
            if message["type"] != "http.request":
                complete = True
                return message
            received += len(message.get("body", b""))
            if received > limit:
                raise fail(_too_large(limit))
            complete = not message.get("more_body", False)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if error is not None and not started:
                return  # the app's answer to a body we refused; ours replaces it below
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception:
            if error is None or started:
                raise
        refused = error
        if refused is not None and not started:
            error = None  # from here on, send our answer through
            await _answer(refused, scope, receive, guarded_send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
