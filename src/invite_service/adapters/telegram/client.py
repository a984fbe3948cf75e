"""HTTP client of the Integration Service (contract: ``docs/contracts/integration-service.yaml``).

One pooled ``httpx.AsyncClient`` per instance (create one per process/event loop and reuse it), a
short-lived HS256 service token, and bounded tenacity retries on what may heal by itself: connection
failures, timeouts, dropped connections, 5xx and 429. Other 4xx are answers and are never retried.

Every failure says whether the platform may have acted (``Delivery``): a refused connection or a 429
provably never reached it (the rate-limit ledger row may be refunded); a timeout, a dropped connection
or a 5xx may have (never re-send blindly). POSTs carry the caller's operation key as their
``Idempotency-Key`` on every attempt — the engine derives it per (task, target, step), so it is the same
across processes and crashes too — and ``operation(key)`` asks the service what became of a key.

Nothing here logs a URL, a header or a body: paths hold phone numbers and headers hold the token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import structlog
from tenacity import RetryCallState

from invite_service.adapters.base import OperationState
from invite_service.adapters.telegram import metrics
from invite_service.adapters.telegram.types import (
    AccountInfo,
    Delivery,
    IntegrationAuthError,
    IntegrationError,
    IntegrationProtocolError,
    IntegrationUnavailable,
    Invitee,
    InviteResponse,
    MessageResponse,
    error_body,
    parse_account,
    parse_invite_response,
    parse_message_response,
)
from invite_service.config import INTEGRATION_BACKOFF_MAX_SECONDS, ConfigError, Settings
from invite_service.kit import service_http
from invite_service.kit.service_http import (
    INTEGRATION_SERVICE_NAME,
    Retryable,
    RetryPolicy,
    Sleep,
    retry_after_header,
)

log = structlog.get_logger(__name__)

SERVICE_AUDIENCE = INTEGRATION_SERVICE_NAME
TOKEN_TTL_SECONDS = 60
# Re-mint this long before expiry, so a token never expires between minting and the server's check.
_REMINT_MARGIN_SECONDS = 15
# The service's own refusals: the request never reached the platform.
SERVICE_ERROR_CODES = frozenset({"UNAUTHORIZED", "FORBIDDEN", "VALIDATION_ERROR", "ACCOUNT_NOT_FOUND"})
# The key is held by another request (another account or body): that request may have acted.
KEY_MISMATCH = "IDEMPOTENCY_KEY_MISMATCH"
__all__ = [
    "SERVICE_AUDIENCE",
    "SERVICE_ERROR_CODES",
    "TOKEN_TTL_SECONDS",
    "ClientCounters",
    "IntegrationClient",
    "OperationRecord",
    "RetryPolicy",
    "mint_service_token",
]


def mint_service_token(secret: str, *, now: float | None = None, ttl_seconds: int = TOKEN_TTL_SECONDS) -> str:
    """The bearer token the Integration Service expects from us (HS256, aud=integration-service)."""
    return service_http.mint_service_token(
        secret, audience=SERVICE_AUDIENCE, now=now, ttl_seconds=ttl_seconds
    )


@dataclass
class ClientCounters:
    """Plain counters for metrics to read later (a Prometheus collector can wrap them)."""

    requests: int = 0  # logical calls
    attempts: int = 0  # HTTP attempts, retries included
    retries: int = 0
    errors: int = 0  # failed attempts of any kind
    auth_failures: int = 0
    throttled: int = 0  # 429 answers
    unavailable: int = 0  # calls given up after the retry budget


@dataclass(frozen=True)
class OperationRecord:
    """``GET /v1/operations/{key}``: the key's state and, once completed, the answer as it was sent."""

    state: OperationState
    operation: str | None = None
    status: int | None = None
    body: Any = None


@dataclass
class _CallState:
    """What the attempts of one logical call did, for the final ``Delivery``."""

    operation: str
    post: bool
    uncertain: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    def delivery(self, this_attempt: Delivery) -> Delivery:
        # Once any attempt may have reached the platform, the call as a whole may have.
        return Delivery.UNCERTAIN if self.uncertain and this_attempt is Delivery.NOT_SENT else this_attempt


class IntegrationClient:
    """Typed calls of the Integration Service contract; raises ``IntegrationError`` subclasses."""

    def __init__(
        self,
        base_url: str,
        token_secret: str,
        *,
        timeout: float = 10.0,
        connect_timeout: float = 3.0,
        max_connections: int = 20,
        max_keepalive_connections: int = 10,
        retry: RetryPolicy | None = None,
        sleep: Sleep | None = None,
        now: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not base_url:
            raise ConfigError("the Integration Service URL is empty (INVITE_INTEGRATION_URL)")
        if not token_secret:
            raise ConfigError("INVITE_INTEGRATION_TOKEN_SECRET is required to call the Integration Service")
        self._secret = token_secret
        self._now = now
        self._token: str | None = None
        self._token_expires = 0.0
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self.counters = ClientCounters()
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_keepalive_connections
            ),
            transport=transport,
            follow_redirects=False,
        )

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> IntegrationClient:
        options: dict[str, Any] = {
            "timeout": settings.integration_timeout_seconds,
            "retry": RetryPolicy(
                max_attempts=settings.integration_max_attempts,
                backoff_max=INTEGRATION_BACKOFF_MAX_SECONDS,
                max_retry_after=settings.integration_max_retry_after_seconds,
            ),
        }
        return cls(settings.integration_url, settings.integration_token_secret, **{**options, **overrides})

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- the contract --

    async def health(self) -> bool:
        """One unauthenticated, unretried probe of ``/health``."""
        try:
            response = await self._http.get("/health")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def list_accounts(self, user_id: str, platform: str | None = None) -> list[AccountInfo]:
        params = {"platform": platform} if platform else None
        body = await self._call("list_accounts", "GET", f"/v1/users/{_seg(user_id)}/accounts", params=params)
        accounts = body.get("accounts") if isinstance(body, Mapping) else None
        if not isinstance(accounts, list):
            raise IntegrationProtocolError(200, "BAD_RESPONSE", detail="accounts is not a list")
        return [parse_account(item) for item in accounts]

    async def get_account(self, account_id: str) -> AccountInfo:
        return parse_account(await self._call("get_account", "GET", f"/v1/accounts/{_seg(account_id)}"))

    async def invite(self, account_id: str, chat: str, users: list[Invitee], *, key: str) -> InviteResponse:
        body = {"chat": chat, "users": [user.to_wire() for user in users]}
        path = f"/v1/accounts/{_seg(account_id)}/invite"
        return parse_invite_response(await self._call("invite", "POST", path, json=body, key=key))

    async def send_message(self, account_id: str, peer: Invitee, text: str, *, key: str) -> MessageResponse:
        body = {"peer": peer.to_wire(), "text": text}
        path = f"/v1/accounts/{_seg(account_id)}/messages"
        return parse_message_response(await self._call("send_message", "POST", path, json=body, key=key))

    async def operation(self, key: str) -> OperationRecord:
        """What the service knows of ``key``; ``unknown_key`` proves the platform was never asked."""
        body = await self._call("operation", "GET", f"/v1/operations/{_seg(key)}")
        data = body if isinstance(body, Mapping) else {}
        try:
            state = OperationState(str(data.get("status")))
        except ValueError as exc:
            raise IntegrationProtocolError(200, "BAD_RESPONSE", detail="unknown operation status") from exc
        if state is not OperationState.COMPLETED:
            return OperationRecord(state, data.get("operation"))
        result = data.get("result")
        if not isinstance(result, Mapping) or not isinstance(result.get("status"), int):
            raise IntegrationProtocolError(200, "BAD_RESPONSE", detail="a completed operation has no result")
        return OperationRecord(state, data.get("operation"), int(result["status"]), result.get("body"))

    def answer(self, record: OperationRecord) -> Any:
        """A completed operation's stored answer, read exactly as the live answer would have been:
        the body of a 2xx, else the same ``IntegrationError`` (a stored 5xx stays uncertain)."""
        state = _CallState(record.operation or "operation", post=True)
        response = httpx.Response(record.status or 500, json=record.body)
        try:
            return self._handle(state, response)
        except Retryable as exc:
            raise IntegrationUnavailable(
                exc.status, exc.code, exc.retry_after, delivery=Delivery.UNCERTAIN, operation=state.operation
            ) from exc

    async def is_member(self, account_id: str, chat: str, user: Invitee) -> bool:
        path = f"/v1/chats/{_seg(chat)}/members/{_seg(user.path_value())}"
        body = await self._call("is_member", "GET", path, params={"account_id": account_id})
        member = body.get("member") if isinstance(body, Mapping) else None
        if not isinstance(member, bool):
            raise IntegrationProtocolError(200, "BAD_RESPONSE", detail="member is not a boolean")
        return member

    # -- one logical call: attempts, retries, the final error --

    async def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        key: str | None = None,
    ) -> Any:
        self.counters.requests += 1
        state = _CallState(operation, post=method == "POST")
        if key is not None:
            # The caller's key on every attempt: the service replays instead of acting twice.
            state.headers["Idempotency-Key"] = key
        retrying = service_http.retrying(self.retry, sleep=self._sleep, before_sleep=self._before_sleep)
        try:
            return await retrying(self._attempt, state, method, path, params, json)
        except Retryable as exc:
            self.counters.unavailable += 1
            log.warning("integration_unavailable", operation=operation, status=exc.status, code=exc.code)
            delivery = state.delivery(Delivery.NOT_SENT)
            raise IntegrationUnavailable(
                exc.status, exc.code, exc.retry_after, delivery=delivery, operation=operation
            ) from exc

    async def _attempt(
        self,
        state: _CallState,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        json: Mapping[str, Any] | None,
    ) -> Any:
        self.counters.attempts += 1
        headers = {**state.headers, "Authorization": f"Bearer {self._bearer()}"}
        try:
            response = await self._http.request(method, path, params=params, json=json, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # No connection was made, so no byte of the request left us: surely not sent.
            self._error("unreachable")
            raise Retryable(None, "INTEGRATION_UNREACHABLE") from exc
        except httpx.TimeoutException as exc:
            # Sent (or partly sent) and no answer in time: the platform may be acting on it right now.
            self._error("timeout")
            state.uncertain = True
            raise Retryable(None, "INTEGRATION_TIMEOUT") from exc
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            # The connection broke after the request went out: uncertain as well.
            self._error("connection_lost")
            state.uncertain = True
            raise Retryable(None, "INTEGRATION_CONNECTION_LOST") from exc
        return self._handle(state, response)

    def _handle(self, state: _CallState, response: httpx.Response) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            try:
                return response.json()
            except ValueError as exc:
                metrics.count_integration_error("protocol")
                raise IntegrationProtocolError(
                    status, "BAD_RESPONSE", delivery=Delivery.UNCERTAIN, operation=state.operation
                ) from exc
        parsed = error_body(response)
        code, retry_after, detail = parsed.code, parsed.retry_after, parsed.detail
        kind = _error_kind(status, code)
        if kind is None:
            self.counters.errors += 1  # a platform refusal: an answer, not a failure of the service
        else:
            self._error(kind)
        if status == 401 or (status == 403 and code in ("UNAUTHORIZED", "FORBIDDEN")):
            self.counters.auth_failures += 1
            log.error("integration_auth_refused", operation=state.operation, status=status, code=code)
            raise IntegrationAuthError(
                status,
                code,
                detail=detail,
                delivery=state.delivery(Delivery.NOT_SENT),
                operation=state.operation,
            )
        if status == 429:
            self.counters.throttled += 1
            retry_after = retry_after_header(response.headers, self._now()) or retry_after
            if retry_after is not None and retry_after > self.retry.max_retry_after:
                # Too long to block a worker on: the caller schedules it instead.
                raise IntegrationUnavailable(
                    status,
                    code,
                    retry_after,
                    detail=detail,
                    delivery=state.delivery(Delivery.NOT_SENT),
                    operation=state.operation,
                )
            raise Retryable(status, code, retry_after)
        if status >= 500:
            state.uncertain = True
            raise Retryable(status, code)
        if code == KEY_MISMATCH:
            delivery = Delivery.UNCERTAIN
        else:
            delivery = Delivery.NOT_SENT if code in SERVICE_ERROR_CODES else Delivery.SENT
        raise IntegrationError(
            status,
            code,
            retry_after,
            detail=detail,
            delivery=state.delivery(delivery),
            operation=state.operation,
            rpc_code=parsed.rpc_code,
        )

    def _error(self, kind: str) -> None:
        self.counters.errors += 1
        metrics.count_integration_error(kind)

    def _before_sleep(self, retry_state: RetryCallState) -> None:
        self.counters.retries += 1
        metrics.count_integration_retry()
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        state = retry_state.args[0] if retry_state.args else None
        log.info(
            "integration_retry",
            operation=getattr(state, "operation", None),
            attempt=retry_state.attempt_number,
            code=getattr(exc, "code", None),
            status=getattr(exc, "status", None),
            wait_seconds=round(retry_state.upcoming_sleep, 3),
        )

    def _bearer(self) -> str:
        now = self._now()
        if self._token is None or now >= self._token_expires - _REMINT_MARGIN_SECONDS:
            self._token = mint_service_token(self._secret, now=now, ttl_seconds=TOKEN_TTL_SECONDS)
            self._token_expires = int(now) + TOKEN_TTL_SECONDS
        return self._token


def _error_kind(status: int, code: str) -> str | None:
    """The metric kind of an error answer; None for the platform's own refusals (4xx/420 passed through)."""
    if status == 401 or (status == 403 and code in ("UNAUTHORIZED", "FORBIDDEN")):
        return "auth"
    if status == 429:
        return "throttled"
    if status >= 500:
        return "server_error"
    return "refused" if code in SERVICE_ERROR_CODES or code == KEY_MISMATCH else None


def _seg(value: str) -> str:
    """One path segment, percent-encoded (chat links contain ``/``); ``+`` and ``@`` kept readable."""
    return quote(value, safe="+@")
