"""The sandbox Integration Service's ``/admin`` endpoints (the ``/v1`` service token), for tests and demos.

``GET /admin/state`` (snapshot, injected HTTP faults, per-operation call counts, recorded keys),
``GET /admin/ledger?account_id=&action=`` (accepted actions, every platform call, ``double_sends`` and
``repeated_calls`` — the counts are over all accounts), ``POST /admin/accounts`` {account_id, user_id,
label, platform}, ``POST /admin/accounts/{id}/revoke`` and ``…/restore`` (logged out, logged in again),
``POST /admin/reset?keep_accounts=`` (the operation keys are forgotten too),
``POST /admin/faults/rpc`` {name, count, seconds, account_id} (the simulator answers with that RPC
error), ``POST /admin/faults/latency?seconds=`` (the platform acts, then the answer is late),
``POST /admin/faults/http`` {kind: http|throttle|drop, count, status, code, retry_after, stage:
before|after, operation, target} (5xx, 429 with Retry-After, or a connection closed without an answer —
httpx sees ``RemoteProtocolError``; "before" = nothing recorded, the platform never asked; "after" = the
platform acted and the key completed, then the answer was lost; ``target`` = only calls naming that
user), ``DELETE /admin/faults``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from invite_service.sandbox.integration_state import ApiError, HttpFault, SandboxState
from invite_service.sandbox.model import AccountPlatform
from invite_service.sandbox.sim_state import UnknownAccountError


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


def admin_router(state: SandboxState, authenticate: Callable[[Request], None]) -> APIRouter:
    router = APIRouter(prefix="/admin", dependencies=[Depends(authenticate)])
    sim = state.simulator

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
