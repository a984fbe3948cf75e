"""The Integration Service contract (``docs/contracts/integration-service.yaml``) served over a simulator.

``create_integration_app(simulator, token_secret)`` answers every ``/v1`` call as the real service
would — service JWT checked (401 otherwise), Telegram errors as ``{code, retry_after}`` with the
contract's statuses, ``Idempotency-Key`` replays — and adds ``/admin`` endpoints (same token) for
tests and demos. ``invite-service sandbox-integration`` serves it with uvicorn.

Admin: ``GET /admin/state`` (snapshot, injected HTTP faults, per-operation call counts),
``GET /admin/ledger?account_id=&action=``, ``POST /admin/accounts`` {account_id, user_id, label,
platform}, ``POST /admin/accounts/{id}/revoke`` and ``…/restore`` (logged out, logged in again),
``POST /admin/reset?keep_accounts=``,
``POST /admin/faults/rpc`` {name, count, seconds, account_id} (the simulator answers with that RPC
error), ``POST /admin/faults/latency?seconds=`` (the platform acts, then the answer is late),
``POST /admin/faults/http`` {kind: http|throttle|drop, count, status, code, retry_after, stage:
before|after, operation} (5xx, 429 with Retry-After, or a connection closed without an answer —
httpx sees ``RemoteProtocolError``; "after" = the platform acted and the answer was lost),
``DELETE /admin/faults``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any, Literal

import jwt
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, model_validator
from starlette.types import Receive, Scope, Send

from invite_service.accounts.integration_client import SERVICE_AUDIENCE
from invite_service.kit.service_http import SERVICE_NAME
from invite_service.sandbox.integration_state import (
    DROP_KEY,
    ApiError,
    DropFlag,
    HttpFault,
    Payload,
    SandboxState,
    close_connection,
    demo_account_id,
    demo_config,
    ensure_demo_accounts,
    rpc_payload,
)
from invite_service.sandbox.model import AccountPlatform, RpcError
from invite_service.sandbox.simulator import TelegramSimulator, UnknownAccountError

_ACCOUNT_STATES = {"session_revoked": "unavailable"}  # the rest keep the simulator's names


class UserRef(BaseModel):
    user_id: str | None = Field(default=None, pattern=r"^\d{1,20}$")
    username: str | None = Field(default=None, min_length=1, max_length=64)
    phone: str | None = Field(default=None, pattern=r"^\+\d{6,15}$")

    @model_validator(mode="after")
    def _exactly_one(self) -> UserRef:
        if sum(v is not None for v in (self.user_id, self.username, self.phone)) != 1:
            raise ValueError("give exactly one of user_id, username, phone")
        return self

    def key(self) -> str:
        return self.user_id or self.phone or (self.username or "").lstrip("@")

    def wire(self) -> dict[str, str]:
        return self.model_dump(exclude_none=True)


class InviteBody(BaseModel):
    chat: str = Field(min_length=1)
    users: list[UserRef] = Field(min_length=1, max_length=200)


class MessageBody(BaseModel):
    peer: UserRef
    text: str = Field(min_length=1, max_length=4096)


class RpcFault(BaseModel):
    name: str
    count: int = Field(default=1, ge=1)
    seconds: int | None = None
    account_id: str | None = None


class NewAccount(BaseModel):
    account_id: str = Field(min_length=1)
    user_id: str = Field(min_length=1)
    label: str | None = None
    platform: AccountPlatform = "telegram"


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
    simulator: TelegramSimulator, token_secret: str, *, demo_accounts_per_user: int = 0
) -> IntegrationSandboxApp:
    if not token_secret:
        raise ValueError("the sandbox Integration Service needs the shared token secret")
    state = SandboxState(simulator, token_secret, demo_accounts_per_user)
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
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(_contract_router(state))
    app.include_router(_admin_router(state))
    return app


def _authenticate(state: SandboxState) -> Callable[[Request], None]:
    def check(request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "UNAUTHORIZED", "a bearer service token is required")
        try:
            jwt.decode(
                token,
                state.token_secret,
                algorithms=["HS256"],
                audience=SERVICE_AUDIENCE,
                issuer=SERVICE_NAME,
                leeway=5,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
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
        "is_premium": False,
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

        return await state.run(request, "list_accounts", user_id, _guarded(work))

    @router.get("/accounts/{account_id}")
    async def get_account(request: Request, account_id: str) -> Response:
        async def work() -> Payload:
            return 200, await _account_wire(sim, account_id)

        return await state.run(request, "get_account", account_id, _guarded(work))

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

        return await state.run(request, "invite", account_id, _guarded(work))

    @router.post("/accounts/{account_id}/messages")
    async def send_message(request: Request, account_id: str, body: MessageBody) -> Response:
        async def work() -> Payload:
            sent = await sim.send_message(account_id, body.peer.key(), body.text)
            return 200, {"message_id": sent.message_id, "date": sent.date.isoformat()}

        return await state.run(request, "send_message", account_id, _guarded(work))

    @router.get("/chats/{chat:path}/members/{user}")
    async def is_member(
        request: Request, chat: str, user: str, account_id: str = Query(min_length=1)
    ) -> Response:
        async def work() -> Payload:
            await sim.account_status(account_id)  # an unknown account is a 404, as for every call
            return 200, {"member": await sim.is_member(chat, user.lstrip("@"))}

        return await state.run(request, "is_member", account_id, _guarded(work))

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


def _admin_router(state: SandboxState) -> APIRouter:
    router = APIRouter(prefix="/admin", dependencies=[Depends(_authenticate(state))])
    sim = state.simulator

    @router.get("/state")
    async def snapshot() -> dict[str, Any]:
        return {
            **sim.snapshot(),
            "http_faults": [f.model_dump() for f in state.faults],
            "calls": dict(state.calls),
        }

    @router.get("/ledger")
    async def ledger(
        account_id: str | None = None, action: Literal["invite", "message"] | None = None
    ) -> dict[str, Any]:
        entries = sim.ledger(account_id=account_id, action=action)
        return {"entries": [e.to_dict() for e in entries], "double_sends": len(sim.double_sends())}

    @router.post("/accounts", status_code=201)
    async def add_account(account: NewAccount) -> dict[str, str]:
        try:
            sim.add_account(
                account.account_id, account.user_id, account.label or account.account_id, account.platform
            )
        except ValueError as exc:
            raise ApiError(409, "ACCOUNT_EXISTS", str(exc)) from exc
        return {"id": account.account_id}

    @router.post("/accounts/{account_id}/revoke", status_code=204)
    async def revoke(account_id: str) -> None:
        try:
            sim.revoke_session(account_id)
        except UnknownAccountError as exc:
            raise ApiError(404, "ACCOUNT_NOT_FOUND") from exc

    @router.post("/accounts/{account_id}/restore", status_code=204)
    async def restore(account_id: str) -> None:
        try:
            sim.restore_session(account_id)
        except UnknownAccountError as exc:
            raise ApiError(404, "ACCOUNT_NOT_FOUND") from exc

    @router.post("/reset", status_code=204)
    async def reset(keep_accounts: bool = True) -> None:
        state.reset(keep_accounts)

    @router.post("/faults/rpc", status_code=204)
    async def rpc_fault(fault: RpcFault) -> None:
        try:
            sim.inject(fault.name, fault.count, fault.seconds, fault.account_id)
        except ValueError as exc:
            raise ApiError(400, "VALIDATION_ERROR", str(exc)) from exc

    @router.post("/faults/latency", status_code=204)
    async def latency(seconds: float = Query(ge=0)) -> None:
        sim.set_latency(seconds)

    @router.post("/faults/http", status_code=204)
    async def http_fault(fault: HttpFault) -> None:
        state.faults.append(fault)

    @router.delete("/faults", status_code=204)
    async def clear_faults() -> None:
        state.faults.clear()
        sim.clear_faults()
        sim.set_latency(sim.config.latency_seconds)

    return router


__all__ = [
    "IntegrationSandboxApp",
    "SandboxState",
    "create_integration_app",
    "demo_account_id",
    "demo_config",
    "ensure_demo_accounts",
]
