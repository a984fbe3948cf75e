"""What the sandbox Integration Service keeps around its simulator: demo accounts, injected HTTP faults,
``Idempotency-Key`` replays and call counts (``integration_app`` serves it over HTTP).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.types import Send

from invite_service.sandbox.model import AccountLimits, AccountPlatform, RpcError, SimulatorConfig
from invite_service.sandbox.simulator import TelegramSimulator

Payload = tuple[int, dict[str, Any]]
DROP_KEY = "invite.sandbox.drop"
_IDEMPOTENCY_CACHE = 10_000


def demo_config(seed: int = 0, limits: AccountLimits | None = None) -> SimulatorConfig:
    """The audience mix of the demo and the sandbox server: mostly reachable, every refusal present."""
    return SimulatorConfig(
        seed=seed,
        privacy_share=0.06,
        already_member_share=0.05,
        deleted_share=0.02,
        unknown_username_share=0.02,
        blocked_share=0.02,
        missing_invitee_share=0.02,
        missing_premium_allow_share=0.02,
        missing_premium_pm_share=0.02,
        limits=limits or AccountLimits(),
    )


def demo_account_id(platform: str, user_id: str, n: int) -> str:
    # Unique per user: one simulator serves every user of the process.
    return f"{'sb' if platform == 'sandbox' else 'tg'}-{user_id}-{n}"


def ensure_demo_accounts(
    simulator: TelegramSimulator, user_id: str, platform: AccountPlatform, count: int
) -> list[str]:
    """Create the user's ``count`` demo accounts that do not exist yet; return all their ids."""
    existing = {a.account_id for a in simulator.accounts_for(user_id)}
    ids = [demo_account_id(platform, user_id, n) for n in range(1, count + 1)]
    for n, account_id in enumerate(ids, start=1):
        if account_id not in existing:
            simulator.add_account(account_id, user_id, f"{platform}-{n}", platform)
    return ids


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, detail: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(code)
        self.status, self.code, self.detail, self.retry_after = status, code, detail, retry_after

    def payload(self) -> Payload:
        return self.status, {"code": self.code, "retry_after": self.retry_after, "detail": self.detail}


def rpc_payload(err: RpcError) -> Payload:
    # 401 is the service token's alone (Telegram's session class goes out as 403); a platform 500 is a 502.
    status = {401: 403, 500: 502}.get(err.code, err.code)
    return status, {"code": err.message, "retry_after": err.seconds, "detail": None}


class HttpFault(BaseModel):
    """An infrastructure fault for the next ``count`` contract calls (of ``operation``, if given)."""

    kind: Literal["http", "throttle", "drop"] = "http"
    count: int = Field(default=1, ge=1)
    status: int = Field(default=503, ge=500, le=599)
    code: str = "UNAVAILABLE"
    retry_after: float = Field(default=1.0, ge=0)
    # before: the call never reaches the platform; after: it took effect, then the answer is lost.
    stage: Literal["before", "after"] = "before"
    operation: str | None = None


@dataclass
class DropFlag:
    requested: bool = False


class SandboxState:
    """Everything the app adds around the simulator: faults, idempotency replays, call counts."""

    def __init__(self, simulator: TelegramSimulator, token_secret: str, demo_accounts_per_user: int) -> None:
        self.simulator = simulator
        self.token_secret = token_secret
        self.demo_accounts_per_user = demo_accounts_per_user
        self.faults: list[HttpFault] = []
        self.replays: OrderedDict[str, tuple[str, asyncio.Future[Payload]]] = OrderedDict()
        self.calls: Counter[str] = Counter()

    def reset(self, keep_accounts: bool) -> None:
        self.simulator.reset(keep_accounts=keep_accounts)
        self.simulator.set_latency(self.simulator.config.latency_seconds)
        self.faults.clear()
        self.replays.clear()
        self.calls.clear()

    def take_fault(self, operation: str) -> HttpFault | None:
        for fault in self.faults:
            if fault.operation in (None, operation):
                fault.count -= 1
                if fault.count == 0:
                    self.faults.remove(fault)
                return fault.model_copy()
        return None

    async def run(
        self, request: Request, operation: str, scope_key: str, work: Callable[[], Awaitable[Payload]]
    ) -> Response:
        """One contract call: count it, apply a fault before/after it, replay by Idempotency-Key."""
        self.calls[operation] += 1
        fault = self.take_fault(operation)
        if fault is not None and (fault.stage == "before" or fault.kind == "throttle"):
            return fault_response(request, fault)
        key = request.headers.get("idempotency-key")
        status, body = await (
            self._replayed(f"{operation}:{scope_key}:{key}", request, work) if key else work()
        )
        if fault is not None:
            return fault_response(request, fault)
        return JSONResponse(body, status_code=status)

    async def _replayed(self, key: str, request: Request, work: Callable[[], Awaitable[Payload]]) -> Payload:
        fingerprint = hashlib.sha256(await request.body()).hexdigest()
        if key in self.replays:
            known, pending = self.replays[key]
            if known != fingerprint:
                return ApiError(
                    409, "IDEMPOTENCY_KEY_MISMATCH", "the key was used with another body"
                ).payload()
            # A repeat while the first is still running waits for its answer instead of acting again.
            return await asyncio.shield(pending)
        future: asyncio.Future[Payload] = asyncio.get_running_loop().create_future()
        self.replays[key] = (fingerprint, future)
        while len(self.replays) > _IDEMPOTENCY_CACHE:
            self.replays.popitem(last=False)
        try:
            result = await work()
        except BaseException:
            self.replays.pop(key, None)
            future.cancel()
            raise
        future.set_result(result)
        return result


def fault_response(request: Request, fault: HttpFault) -> Response:
    if fault.kind == "drop":
        request.scope[DROP_KEY].requested = True
        return Response(status_code=500)  # never sent: the connection is closed instead
    if fault.kind == "throttle":
        body = {"code": "THROTTLED", "retry_after": fault.retry_after, "detail": "injected throttle"}
        return JSONResponse(body, status_code=429, headers={"Retry-After": f"{fault.retry_after:g}"})
    return JSONResponse({"code": fault.code, "retry_after": None, "detail": "injected fault"}, fault.status)


def close_connection(send: Send) -> bool:
    """Close the client's socket without an answer. uvicorn passes its cycle's bound ``send``, whose
    object holds the transport; other servers cannot do this (the caller then fails the request)."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if isinstance(transport, asyncio.BaseTransport):
        transport.close()
        return True
    return False
