"""The Integration Service contract (``docs/contracts/integration-service.yaml``) served over a simulator.

``create_integration_app(simulator, token_secret)`` answers every ``/v1`` call as the real service
would — service JWT checked (401 otherwise), Telegram errors as ``{code, retry_after}`` with the
contract's statuses, operation keys (``Idempotency-Key`` replays, ``GET /v1/operations/{key}``; kept in
``state_file`` across restarts when given) — and adds ``/admin`` endpoints (same token, in
``integration_admin``) for tests and demos. ``invite-service sandbox-integration`` serves it with uvicorn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import jwt
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from invite_service.adapters.telegram.client import SERVICE_AUDIENCE
from invite_service.adapters.telegram.contract import InviteBody, MessageBody
from invite_service.kit.service_http import SERVICE_NAME, verify_service_token
from invite_service.sandbox.integration_admin import admin_router
from invite_service.sandbox.integration_state import (
    DROP_KEY,
    ApiError,
    DropFlag,
    Payload,
    SandboxState,
    close_connection,
    demo_account_id,
    demo_config,
    ensure_demo_accounts,
    rpc_payload,
)
from invite_service.sandbox.model import AccountPlatform, RpcError
from invite_service.sandbox.sim_state import UnknownAccountError
from invite_service.sandbox.simulator import TelegramSimulator

_ACCOUNT_STATES = {"session_revoked": "unavailable"}  # the rest keep the simulator's names


class IntegrationSandboxApp(FastAPI):
    """FastAPI plus one outer hook: a request flagged "drop" gets no answer and a closed connection."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        drop = scope[DROP_KEY] = DropFlag()

        async def guarded_send(message: Any) -> None:
            if not drop.requested:
                await send(message)

        await super().__call__(scope, receive, guarded_send)
        if drop.requested:
            if not close_connection(send):
                raise ConnectionAbortedError("dropped connection (injected)")
            await asyncio.sleep(0)  # let the transport report the loss before the server looks


def create_integration_app(
    simulator: TelegramSimulator,
    token_secret: str,
    *,
    demo_accounts_per_user: int = 0,
    state_file: Path | None = None,
    events_url: str | None = None,
    previous_token_secret: str = "",
) -> IntegrationSandboxApp:
    """``state_file``: a JSON-lines file the operation keys are kept in, so a restarted server still
    answers lookups and replays (the simulator itself starts afresh)."""
    if not token_secret:
        raise ValueError("the sandbox Integration Service needs the shared token secret")
    state = SandboxState(simulator, token_secret, demo_accounts_per_user, state_file, previous_token_secret)
    app = IntegrationSandboxApp(title="Integration Service (sandbox)", docs_url=None, redoc_url=None)
    app.state.sandbox = state

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        status, body = exc.payload()
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        where = "; ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors())
        return JSONResponse({"code": "VALIDATION_ERROR", "retry_after": None, "detail": where}, 400)

    @app.get("/health")
    async def health() -> dict[str, str | bool]:
        # The Invite Service's detailed health reads this: a simulator behind a URL is still a simulator.
        return {"status": "ok", "simulated": True}

    app.include_router(_contract_router(state))
    app.include_router(admin_router(state, _authenticate(state), events_url))
    return app


def _authenticate(state: SandboxState) -> Callable[[Request], None]:
    def check(request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "UNAUTHORIZED", "a bearer service token is required")
        try:
            verify_service_token(
                token, state.accepted_secrets, audience=SERVICE_AUDIENCE, issuer=SERVICE_NAME
            )
        except jwt.PyJWTError as exc:
            raise ApiError(401, "UNAUTHORIZED", f"invalid service token ({type(exc).__name__})") from exc

    return check


async def _account_wire(simulator: TelegramSimulator, account_id: str) -> dict[str, Any]:
    meta = next((a for a in simulator.snapshot()["accounts"] if a["account_id"] == account_id), None)
    if meta is None:
        raise ApiError(404, "ACCOUNT_NOT_FOUND", "no such account")
    status = (await simulator.account_status(account_id)).to_dict()
    return {
        "id": account_id,
        "user_id": meta["user_id"],
        "platform": meta["platform"],
        "label": meta["label"],
        "username": None,
        "is_premium": meta.get("is_premium") is True,
        "status": _ACCOUNT_STATES.get(status["state"], status["state"]),
        "flood_wait_until": status["flood_wait_until"],
        "restricted_until": status["restricted_until"],
        "status_detail": "session revoked" if status["state"] == "session_revoked" else None,
    }


def _contract_router(state: SandboxState) -> APIRouter:
    router = APIRouter(prefix="/v1", dependencies=[Depends(_authenticate(state))])
    sim = state.simulator

    @router.get("/users/{user_id}/accounts")
    async def list_accounts(
        request: Request, user_id: str, platform: AccountPlatform | None = None
    ) -> Response:
        async def work() -> Payload:
            if state.demo_accounts_per_user and not sim.accounts_for(user_id):
                ensure_demo_accounts(sim, user_id, platform or "telegram", state.demo_accounts_per_user)
            owned = [a for a in sim.accounts_for(user_id) if platform in (None, a.platform)]
            return 200, {"accounts": [await _account_wire(sim, a.account_id) for a in owned]}

        return await state.run(request, "list_accounts", _guarded(work))

    @router.get("/accounts/{account_id}")
    async def get_account(request: Request, account_id: str) -> Response:
        async def work() -> Payload:
            return 200, await _account_wire(sim, account_id)

        return await state.run(request, "get_account", _guarded(work))

    @router.post("/accounts/{account_id}/invite")
    async def invite(request: Request, account_id: str, body: InviteBody) -> Response:
        async def work() -> Payload:
            invited: list[dict[str, str]] = []
            missing: list[dict[str, Any]] = []
            for ref in body.users:
                # One simulator call per user; an error ends the call and earlier users stay added,
                # as on Telegram.
                result = await sim.invite(account_id, body.chat, ref.key())
                invited.extend(ref.wire() for _ in result.added)
                missing.extend(
                    {"user": ref.wire(), **{k: v for k, v in asdict(m).items() if k != "target"}}
                    for m in result.missing_invitees
                )
            return 200, {"chat": body.chat, "invited": invited, "missing_invitees": missing}

        targets = [ref.key() for ref in body.users]
        return await state.run(request, "invite", _guarded(work), account_id=account_id, targets=targets)

    @router.post("/accounts/{account_id}/messages")
    async def send_message(request: Request, account_id: str, body: MessageBody) -> Response:
        async def work() -> Payload:
            sent = await sim.send_message(account_id, body.peer.key(), body.text)
            return 200, {"message_id": sent.message_id, "date": sent.date.isoformat()}

        targets = [body.peer.key()]
        return await state.run(
            request, "send_message", _guarded(work), account_id=account_id, targets=targets
        )

    @router.get("/chats/{chat:path}/members/{user}")
    async def is_member(
        request: Request, chat: str, user: str, account_id: str = Query(min_length=1)
    ) -> Response:
        async def work() -> Payload:
            await sim.account_status(account_id)  # an unknown account is a 404, as for every call
            return 200, {"member": await sim.is_member(chat, user.lstrip("@"))}

        return await state.run(request, "is_member", _guarded(work), targets=[user.lstrip("@")])

    @router.get("/operations/{key}")
    async def operation(request: Request, key: str) -> Response:
        async def work() -> Payload:
            return 200, state.lookup(key)

        return await state.run(request, "operation", work)

    return router


def _guarded(work: Callable[[], Awaitable[Payload]]) -> Callable[[], Awaitable[Payload]]:
    """Platform answers become payloads (so idempotency replays them too)."""

    async def run() -> Payload:
        try:
            return await work()
        except RpcError as err:
            return rpc_payload(err)
        except UnknownAccountError:
            return ApiError(404, "ACCOUNT_NOT_FOUND", "no such account").payload()
        except ApiError as err:
            return err.payload()

    return run


__all__ = [
    "IntegrationSandboxApp",
    "SandboxState",
    "create_integration_app",
    "demo_account_id",
    "demo_config",
    "ensure_demo_accounts",
]
