"""Uploads: a size limit enforced while the body arrives (413), and the file spooled for the job.

``upload_limit_route`` makes a route class that authenticates the request before reading its body (FastAPI
reads and spools a form before any dependency runs, so an anonymous client could otherwise make us spool
a 50 MiB file), refuses a declared ``Content-Length`` over the limit before reading anything and stops a
body that grows past it (chunked uploads) while it streams in, so an oversized upload is never spooled
whole. It also raises the request's body cap (``BODY_LIMIT_SCOPE_KEY``) for a body-size guard in front
of the routes, whose default cap is the one for JSON.

The handler then copies the part into an anonymous temp file the job owns: the request's own upload is
closed when the response is sent, and an anonymous file vanishes with the process if it dies.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable, Coroutine
from typing import IO, Any

from fastapi import Request, Response, UploadFile
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import Message

from invite_service.errors import PayloadTooLarge
from invite_service.kit.tabular import bounds


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The file is larger than the {limit // (1024 * 1024)} MiB upload limit.")


# The ASGI scope key where an upload route puts its body cap (bytes) before the body is read.
BODY_LIMIT_SCOPE_KEY = "invite_service.body_limit"


def upload_limit_route(
    max_bytes: Callable[[Request], int], authenticate: Callable[[Request], object] | None = None
) -> type[APIRoute]:
    """A route class that refuses a body over ``max_bytes(request)`` (plus the multipart framing);
    ``authenticate(request)`` runs first and raises to refuse the request before its body is read."""

    class UploadLimitRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def limited(request: Request) -> Response:
                if authenticate is not None:
                    authenticate(request)
                file_limit = max_bytes(request)
                body_limit = file_limit + bounds.MULTIPART_OVERHEAD_BYTES
                if request.headers.get("content-type", "").lower().startswith("multipart/"):
                    request.scope[BODY_LIMIT_SCOPE_KEY] = body_limit  # a file; JSON keeps the JSON cap
                declared = request.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > body_limit:
                    raise _too_large(file_limit)
                received = 0
                receive = request.receive

                async def counting_receive() -> Message:
                    nonlocal received
                    message = await receive()
                    received += len(message.get("body", b""))
                    if received > body_limit:
                        raise _too_large(file_limit)
                    return message

                try:
                    return await handler(Request(request.scope, counting_receive))
                except HTTPException as exc:
                    # FastAPI turns any error while parsing the form into a 400; keep ours a 413.
                    if isinstance(exc.__cause__, PayloadTooLarge):
                        raise exc.__cause__ from None
                    raise

            return limited

    return UploadLimitRoute


def _copy(source: IO[bytes]) -> IO[bytes]:
    spooled = tempfile.TemporaryFile(prefix="invite-import-")  # noqa: SIM115 - the job closes it
    try:
        source.seek(0)
        shutil.copyfileobj(source, spooled, 1024 * 1024)
        spooled.seek(0)
    except BaseException:
        spooled.close()
        raise
    return spooled


async def spool(upload: UploadFile, limit: int) -> tuple[IO[bytes], int]:
    """The upload as a temp file of our own, and its size; 413 when it is over ``limit`` bytes."""
    if upload.size is not None and upload.size > limit:
        raise _too_large(limit)
    spooled = await asyncio.to_thread(_copy, upload.file)
    size = spooled.seek(0, 2)
    spooled.seek(0)
    if size > limit:
        spooled.close()
        raise _too_large(limit)
    return spooled, size
