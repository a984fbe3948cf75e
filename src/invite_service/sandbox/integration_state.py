"""What the sandbox Integration Service keeps around its simulator: demo accounts, injected HTTP faults,
operation keys and call counts (``integration_app`` serves it over HTTP).

Operation keys (the contract's "Idempotency" and ``GET /v1/operations/{key}``): one ``OperationStore`` per
app, keyed by the bare ``Idempotency-Key`` — global, not per account, because recovery may hand a target
to another account under the same key, and that must be refused (409), not acted on. A key is recorded
before the simulator is called and its answer after; given a state file, the keys survive a restart of
the server (the simulator's memberships and ledger do not: they stay in memory).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.types import Send

from invite_service.adapters.base import OperationState
from invite_service.sandbox.model import (
    AccountLimits,
    AccountPlatform,
    RpcError,
    SimulatorConfig,
    canonical_key,
)
from invite_service.sandbox.operations import KeyMismatch, OperationStore
from invite_service.sandbox.simulator import TelegramSimulator

Payload = tuple[int, dict[str, Any]]
DROP_KEY = "invite.sandbox.drop"
# The answer kept for a key whose call the server died in: the platform may have acted (a 5xx: uncertain).
INTERRUPTED: Payload = (
    502,
    {"code": "OPERATION_INTERRUPTED", "retry_after": None, "detail": "the service stopped during this call"},
)


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
    if err.name == "RANDOM_ID_DUPLICATE":
        status = 400  # a definite answer (delivered before), not a failure to retry: see the contract
    # rpc_code: Telegram's own class, so the client can classify a name it does not know (contract Error).
    return status, {"code": err.message, "retry_after": err.seconds, "detail": None, "rpc_code": err.code}


class HttpFault(BaseModel):
    """An infrastructure fault for the next ``count`` contract calls (of ``operation`` and naming the user
    ``target``, if given)."""

    kind: Literal["http", "throttle", "drop"] = "http"
    count: int = Field(default=1, ge=1)
    status: int = Field(default=503, ge=500, le=599)
    code: str = "UNAVAILABLE"
    retry_after: float = Field(default=1.0, ge=0)
    # before: the call never reaches the platform and its key is not recorded (a lookup: unknown_key);
    # after: the platform acted and the key is completed, then the answer is lost.
    stage: Literal["before", "after"] = "before"
    operation: str | None = None
    target: str | None = None

    def matches(self, operation: str, targets: Iterable[str]) -> bool:
        if self.operation not in (None, operation):
            return False
        return self.target is None or canonical_key(self.target) in {canonical_key(t) for t in targets}


@dataclass
class DropFlag:
    requested: bool = False


class KeyStore(OperationStore[Payload]):
    """The app's operation keys. A key's fingerprint is ``operation|account_id|sha256(body)``, so the
    lookup can name the operation and account of a key even when its call died with the server."""

    def __init__(self, path: Path | None) -> None:
        super().__init__(interrupted=INTERRUPTED, path=path, encode=list, decode=_payload)

    @staticmethod
    def fingerprint_of(operation: str, account_id: str, body: bytes) -> str:
        return f"{operation}|{account_id}|{hashlib.sha256(body).hexdigest()}"

    def owner(self, key: str) -> tuple[str, str] | None:
        """(operation, account_id) of a recorded key."""
        record = self._records.get(key)
        if record is None:
            return None
        operation, rest = record.fingerprint.split("|", 1)
        account_id, _digest = rest.rsplit("|", 1)
        return operation, account_id


def _payload(raw: Any) -> Payload:
    status, body = raw
    return int(status), body


class SandboxState:
    """Everything the app adds around the simulator: faults, operation keys, call counts."""

    def __init__(
        self,
        simulator: TelegramSimulator,
        token_secret: str,
        demo_accounts_per_user: int,
        state_file: Path | None = None,
        previous_token_secret: str = "",
    ) -> None:
        self.simulator = simulator
        self.token_secret = token_secret  # signs the events it posts; verifies calls with the previous one
        # During a rotation calls signed with the previous secret are still accepted (docs/runbook.md).
        self.accepted_secrets = tuple(s for s in (token_secret, previous_token_secret) if s)
        self.demo_accounts_per_user = demo_accounts_per_user
        self.faults: list[HttpFault] = []
        self.operations = KeyStore(state_file)
        self.calls: Counter[str] = Counter()

    def reset(self, keep_accounts: bool) -> None:
        self.simulator.reset(keep_accounts=keep_accounts)
        self.simulator.set_latency(self.simulator.config.latency_seconds)
        self.faults.clear()
        self.operations.clear()
        self.calls.clear()

    def take_fault(self, operation: str, targets: Iterable[str]) -> HttpFault | None:
        for fault in self.faults:
            if fault.matches(operation, targets):
                fault.count -= 1
                if fault.count == 0:
                    self.faults.remove(fault)
                return fault.model_copy()
        return None

    async def run(
        self,
        request: Request,
        operation: str,
        work: Callable[[], Awaitable[Payload]],
        *,
        account_id: str | None = None,
        targets: Iterable[str] = (),
    ) -> Response:
        """One contract call: count it, apply a fault before/after it; with ``account_id`` (a call that
        acts on the platform) and an Idempotency-Key, act at most once per key."""
        self.calls[operation] += 1
        targets = list(targets)
        fault = self.take_fault(operation, targets)
        if fault is not None and (fault.stage == "before" or fault.kind == "throttle"):
            return fault_response(request, fault)
        key = request.headers.get("idempotency-key")
        if key and account_id is not None:
            fingerprint = KeyStore.fingerprint_of(operation, account_id, await request.body())
            try:
                status, body = await self.operations.run(key, fingerprint, work)
            except KeyMismatch:
                # Another request holds the key (another account, operation or body): nothing acts.
                status, body = ApiError(
                    409, "IDEMPOTENCY_KEY_MISMATCH", "the key was used with another request"
                ).payload()
        else:
            status, body = await work()
        if fault is not None:
            return fault_response(request, fault)
        return JSONResponse(body, status_code=status)

    def lookup(self, key: str) -> dict[str, Any]:
        """``GET /v1/operations/{key}``, as the contract shapes it."""
        state, payload = self.operations.lookup(key)
        owner = self.operations.owner(key)
        if state is OperationState.UNKNOWN_KEY or owner is None:
            return {"key": key, "status": OperationState.UNKNOWN_KEY.value}
        answer: dict[str, Any] = {
            "key": key,
            "status": state.value,
            "operation": owner[0],
            "account_id": owner[1],
        }
        if payload is not None:
            answer["result"] = {"status": payload[0], "body": payload[1]}
        return answer


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
