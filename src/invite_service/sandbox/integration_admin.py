"""The sandbox Integration Service's ``/admin`` endpoints (the ``/v1`` service token), for tests and demos.

``GET /admin/state`` (snapshot, injected HTTP faults, per-operation call counts, recorded keys),
``GET /admin/ledger?account_id=&action=`` (accepted actions, every platform call, ``double_sends`` and
``repeated_calls`` — the counts are over all accounts), ``POST /admin/accounts`` {account_id, user_id,
label, platform}, ``POST /admin/accounts/{id}/revoke`` and ``…/restore`` (logged out, logged in again),
``POST /admin/reset?keep_accounts=`` (the operation keys are forgotten too),
``POST /admin/faults/rpc`` {name, count, seconds, account_id, code} (the simulator answers with that RPC
error), ``POST /admin/faults/latency?seconds=`` (the platform acts, then the answer is late),
``POST /admin/faults/http`` {kind: http|throttle|drop, count, status, code, retry_after, stage:
before|after, operation, target} (5xx, 429 with Retry-After, or a connection closed without an answer —
httpx sees ``RemoteProtocolError``; "before" = nothing recorded, the platform never asked; "after" = the
platform acted and the key completed, then the answer was lost; ``target`` = only calls naming that
user), ``DELETE /admin/faults``.
``POST /admin/replies`` {account_id, peer: {user_id | username}, text}: the simulated person replies to
the account; the server posts the inbound event (id ``<account_id>:<n>``, ``user_id`` the account's owner)
to the Invite Service at ``events_url`` with a service token (5xx retried) and answers with its status
and body (409 when no events URL is configured, 502 when the Invite Service cannot be reached).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, model_validator

from invite_service.kit.service_http import Retryable
from invite_service.sandbox.events import EventPoster
from invite_service.sandbox.integration_state import ApiError, HttpFault, SandboxState
from invite_service.sandbox.model import AccountPlatform, target_user_id
from invite_service.sandbox.sim_state import UnknownAccountError


class RpcFault(BaseModel):
    name: str
    count: int = Field(default=1, ge=1)
    seconds: int | None = None
    account_id: str | None = None
    code: int | None = Field(default=None, description="Telegram's error class (default: the name's own)")


class NewAccount(BaseModel):
    account_id: str = Field(min_length=1)
    user_id: str = Field(min_length=1)
    label: str | None = None
    platform: AccountPlatform = "telegram"


class ReplyPeer(BaseModel):
    user_id: str | None = Field(default=None, pattern=r"^[0-9]{1,20}$")
    username: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _one_given(self) -> ReplyPeer:
        if not self.user_id and not self.username:
            raise ValueError("give the peer's user_id or username")
        return self


class Reply(BaseModel):
    account_id: str = Field(min_length=1)
    peer: ReplyPeer
    text: str = Field(max_length=4096)


def admin_router(
    state: SandboxState, authenticate: Callable[[Request], None], events_url: str | None = None
) -> APIRouter:
    router = APIRouter(prefix="/admin", dependencies=[Depends(authenticate)])
    sim = state.simulator
    poster = EventPoster(events_url, state.token_secret) if events_url else None
    message_ids = itertools.count(1)

    @router.post("/replies")
    async def reply(body: Reply) -> JSONResponse:
        if poster is None:
            raise ApiError(409, "EVENTS_URL_NOT_CONFIGURED", "start the server with --events-url")
        account = next((a for a in sim.snapshot()["accounts"] if a["account_id"] == body.account_id), None)
        if account is None:
            raise ApiError(404, "ACCOUNT_NOT_FOUND")
        username = body.peer.username.removeprefix("@") if body.peer.username else None
        # A username alone: the simulated person's stable user id (what Telegram would show us).
        peer_id = body.peer.user_id or str(target_user_id(sim.config, username or ""))
        n = next(message_ids)
        event = {
            "id": f"{body.account_id}:{n}",
            "type": "message_received",
            "platform": account["platform"],
            "account_id": body.account_id,
            "user_id": account["user_id"],
            "peer": {"user_id": peer_id, "username": username, "phone": None},
            "text": body.text,
            "message_id": n,
            "date": datetime.now(UTC).isoformat(),
        }
        try:
            answer = await poster.post(event)
        except (Retryable, httpx.HTTPError) as exc:
            raise ApiError(502, "EVENTS_UNREACHABLE", type(exc).__name__) from exc
        try:
            content: Any = answer.json()
        except ValueError:
            content = {"detail": answer.text[:500]}
        return JSONResponse(content, status_code=answer.status_code)

    @router.get("/state")
    async def snapshot() -> dict[str, Any]:
        return {
            **sim.snapshot(),
            "http_faults": [f.model_dump() for f in state.faults],
            "calls": dict(state.calls),
            "operation_keys": len(state.operations),
        }

    @router.get("/ledger")
    async def ledger(
        account_id: str | None = None, action: Literal["invite", "message"] | None = None
    ) -> dict[str, Any]:
        entries = sim.ledger(account_id=account_id, action=action)
        calls = sim.platform_calls(account_id=account_id, action=action)
        repeated = sim.repeated_calls()
        return {
            "entries": [e.to_dict() for e in entries],
            "double_sends": len(sim.double_sends()),
            "platform_calls": [c.to_dict() for c in calls],
            "repeated_calls": len(repeated),
            "repeated": [
                {"action": r.action, "chat": r.chat, "target": r.target, "seqs": [c.seq for c in r.calls]}
                for r in repeated
            ],
        }

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
            sim.inject(fault.name, fault.count, fault.seconds, fault.account_id, fault.code)
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
