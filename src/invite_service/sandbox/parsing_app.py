"""A sandbox Parsing Service (``docs/contracts/parsing-service.yaml``): deterministic results of any size.

A parsing task id ending in ``-N`` (``demo-1000``, ``members-250000``) has N results; anything else is a
404. Every result is a pure function of the seed, the task id and its index: about 70% have a username,
30% a phone, every 50th is a bot and every 97th a deleted account. Faults are injected through
``/admin/faults``: a 5xx (or 429 with ``Retry-After``) for the next N result calls, a broken page
(invalid JSON or items missing fields), or a slow page — each after letting ``after`` calls through.

Served over HTTP by ``invite-service sandbox-parsing --port N``, and in process (ASGI, no sockets) when
``INVITE_PARSING_URL`` is empty.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import jwt
from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

MAX_TASK_SIZE = 50_000_000
MAX_LIMIT = 1000
_TASK = re.compile(r"^[A-Za-z0-9_.:]+(?:-[A-Za-z0-9_.:]+)*-(?P<size>\d{1,9})$")
_FIRST = ("Anna", "Boris", "Vera", "Gleb", "Daria", "Egor", "Zoya", "Igor", "Kira", "Lev", "Maria", "Nikita")
_LAST = ("Ivanova", "Petrov", "Smirnova", "Kuznetsov", "Popova", "Sokolov", "Lebedeva", "Kozlov")


class SandboxTaskNotFound(LookupError):
    pass


class FaultsIn(BaseModel):
    """Faults for the next result calls; replaces what was set before."""

    model_config = ConfigDict(extra="forbid")

    after: int = Field(default=0, ge=0, description="result calls served normally before the faults start")
    fail_next: int = Field(default=0, ge=0, description="then this many calls fail with fail_status")
    fail_status: int = Field(default=503, ge=429, le=599)
    retry_after: int | None = Field(default=None, ge=0, le=3600, description="Retry-After on failures")
    broken_next: int = Field(default=0, ge=0, description="then this many pages are broken")
    broken: Literal["invalid_json", "missing_fields"] = "invalid_json"
    delay_next: int = Field(default=0, ge=0, description="then this many pages are slow")
    delay_seconds: float = Field(default=0.0, ge=0, le=3600)
    parsing_task_id: str | None = Field(
        default=None,
        max_length=200,
        description="only this parsing task's calls count and fail (default: all)",
    )


@dataclass
class ParsingSandbox:
    seed: int = 0
    faults: FaultsIn = field(default_factory=FaultsIn)
    result_calls: int = 0
    faults_served: int = 0

    def size_of(self, parsing_task_id: str) -> int:
        match = _TASK.match(parsing_task_id)
        if match is None or int(match["size"]) > MAX_TASK_SIZE:
            raise SandboxTaskNotFound(parsing_task_id)
        return int(match["size"])

    def user(self, parsing_task_id: str, index: int) -> dict[str, Any]:
        digest = hashlib.blake2b(f"{self.seed}:{parsing_task_id}:{index}".encode(), digest_size=8).digest()
        h = int.from_bytes(digest, "big")
        base = int.from_bytes(
            hashlib.blake2b(f"{self.seed}:{parsing_task_id}".encode(), digest_size=4).digest()
        )
        deleted = index % 97 == 96
        user = {
            "user_id": 1_000_000_000 + base % 1_000_000_000 * 4 + index,
            "username": f"member_{base % 9973:04d}_{index:07d}" if h % 10 < 7 and not deleted else None,
            "first_name": "Deleted Account" if deleted else _FIRST[h % len(_FIRST)],
            "last_name": None if deleted or h % 3 == 0 else _LAST[(h >> 8) % len(_LAST)],
            "phone": f"+7900{(h >> 16) % 10_000_000:07d}" if (h >> 40) % 10 < 3 and not deleted else None,
            "is_bot": index % 50 == 49,
            "is_deleted": deleted,
        }
        return user

    def expected(self, parsing_task_id: str) -> list[dict[str, Any]]:
        """Every result of a task that is a person (not a bot, not deleted): what an import keeps."""
        users = (self.user(parsing_task_id, i) for i in range(self.size_of(parsing_task_id)))
        return [u for u in users if not u["is_bot"] and not u["is_deleted"]]

    async def results(
        self, parsing_task_id: str, cursor: str | None, limit: int
    ) -> tuple[int, bytes, dict[str, str]]:
        """(status, body, headers) of a results call, faults applied."""
        size = self.size_of(parsing_task_id)
        self.result_calls += 1
        f = self.faults
        if f.parsing_task_id is not None and f.parsing_task_id != parsing_task_id:
            pass  # another task's call: served normally, counts toward nothing
        elif f.after:
            f.after -= 1
        elif f.fail_next:
            f.fail_next -= 1
            self.faults_served += 1
            headers = {"Retry-After": str(f.retry_after)} if f.retry_after is not None else {}
            code = "THROTTLED" if f.fail_status == 429 else "UNAVAILABLE"
            return f.fail_status, _error(code, "injected failure"), headers
        elif f.broken_next:
            f.broken_next -= 1
            self.faults_served += 1
            if f.broken == "invalid_json":
                return 200, b'{"items": [{"user_id": 1, "username": "trunc', {}
            return 200, json.dumps({"items": [{"username": "no_id_here"}], "next_cursor": None}).encode(), {}
        elif f.delay_next:
            f.delay_next -= 1
            self.faults_served += 1
            await asyncio.sleep(f.delay_seconds)
        offset = _decode_cursor(parsing_task_id, cursor)
        if offset is None:
            return 400, _error("VALIDATION_ERROR", "cursor is not from this task"), {}
        end = min(offset + limit, size)
        body = {
            "items": [self.user(parsing_task_id, i) for i in range(offset, end)],
            "next_cursor": _encode_cursor(parsing_task_id, end) if end < size else None,
            "total": size,
        }
        return 200, json.dumps(body).encode(), {}


def _error(code: str, message: str) -> bytes:
    return json.dumps({"code": code, "message": message}).encode()


def _encode_cursor(parsing_task_id: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{parsing_task_id}\n{offset}".encode()).decode().rstrip("=")


def _decode_cursor(parsing_task_id: str, cursor: str | None) -> int | None:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        task, _, offset = raw.rpartition("\n")
        return int(offset) if task == parsing_task_id and offset.isdigit() else None
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def sandbox_for(state: Any, seed: int = 0) -> ParsingSandbox:
    """The in-process sandbox kept on an app's ``state`` (made on first use)."""
    sandbox = getattr(state, "parsing_sandbox", None)
    if sandbox is None:
        sandbox = ParsingSandbox(seed=seed)
        state.parsing_sandbox = sandbox
    assert isinstance(sandbox, ParsingSandbox)
    return sandbox


def _authorized(request: Request, secret: str) -> bool:
    if not secret:
        return True
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    try:
        jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience="parsing-service",
            issuer="invite-service",
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError:
        return False
    return True


def create_parsing_app(
    seed: int = 0, *, token_secret: str = "", sandbox: ParsingSandbox | None = None
) -> FastAPI:
    sim = sandbox or ParsingSandbox(seed=seed)
    app = FastAPI(title="Parsing Service (sandbox)", version="1.0.0")
    app.state.parsing_sandbox = sim

    @app.get("/health")
    async def health() -> dict[str, str | bool]:
        # The Invite Service's detailed health reads this: a simulator behind a URL is still a simulator.
        return {"status": "ok", "simulated": True}

    @app.get("/v1/tasks/{parsing_task_id}/results")
    async def results(
        parsing_task_id: str,
        request: Request,
        cursor: str | None = Query(default=None, max_length=500),
        limit: int = Query(default=100, ge=1, le=MAX_LIMIT),
    ) -> Response:
        if not _authorized(request, token_secret):
            return Response(
                _error("UNAUTHORIZED", "missing or invalid service token"), 401, media_type="application/json"
            )
        try:
            status, body, headers = await sim.results(parsing_task_id, cursor, limit)
        except SandboxTaskNotFound:
            return Response(_error("NOT_FOUND", "no such parsing task"), 404, media_type="application/json")
        return Response(body, status, headers=headers, media_type="application/json")

    @app.post("/admin/faults")
    async def set_faults(body: FaultsIn) -> FaultsIn:
        sim.faults = body
        return sim.faults

    @app.delete("/admin/faults", status_code=204)
    async def clear_faults() -> Response:
        sim.faults = FaultsIn()
        return Response(status_code=204)

    @app.get("/admin/stats")
    async def stats() -> JSONResponse:
        return JSONResponse({"result_calls": sim.result_calls, "faults_served": sim.faults_served})

    return app
