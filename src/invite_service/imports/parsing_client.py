"""The Parsing Service client (``docs/contracts/parsing-service.yaml``): cursor pages of a parsing task.

One pooled ``httpx.AsyncClient`` per client, a short-lived HS256 service token per call, and tenacity
retries with exponential backoff and jitter on connection errors, 5xx and 429 (``Retry-After`` honoured),
never on another 4xx. A 200 that breaks the contract (invalid JSON, missing fields) is not retried: the
job fails with it. The retry rules match the Integration Service client's; the two can share one policy.

With no ``parsing_url`` the sandbox answers in process, through an ASGI transport (no sockets).
"""

from __future__ import annotations

import email.utils
import time
import uuid
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import quote

import httpx
import jwt
import structlog
from pydantic import BaseModel, ConfigDict, ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from invite_service.config import Settings
from invite_service.imports import limits
from invite_service.imports.errors import (
    ParsingProtocolError,
    ParsingTaskNotFound,
    ParsingUnavailable,
)
from invite_service.sandbox.parsing_app import ParsingSandbox, create_parsing_app

log = structlog.get_logger(__name__)
AUDIENCE = "parsing-service"
ISSUER = "invite-service"


class ParsedUser(BaseModel):
    model_config = ConfigDict(extra="ignore")

    user_id: int | str
    username: str | None
    first_name: str | None
    last_name: str | None
    phone: str | None
    is_bot: bool
    is_deleted: bool


class ResultsPage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    items: list[ParsedUser]
    next_cursor: str | None
    total: int | None = None


class ParsingResults(Protocol):
    async def page(self, parsing_task_id: str, cursor: str | None, limit: int) -> ResultsPage: ...

    async def aclose(self) -> None: ...


class _Retryable(Exception):
    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as delta-seconds or an HTTP date; capped so one answer cannot stall a job."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, min(seconds, limits.PARSING_RETRY_AFTER_MAX_SECONDS))


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, _Retryable | httpx.TransportError)


class _Wait:
    """Exponential backoff with full jitter, or the server's ``Retry-After`` when it sent one."""

    def __init__(self) -> None:
        self._backoff = wait_random_exponential(
            multiplier=limits.PARSING_BACKOFF_BASE_SECONDS, max=limits.PARSING_BACKOFF_MAX_SECONDS
        )

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return exc.retry_after
        return float(self._backoff(state))


class HttpParsingClient:
    def __init__(
        self, base_url: str, token_secret: str, *, transport: httpx.AsyncBaseTransport | None = None
    ):
        self._secret = token_secret
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(limits.PARSING_TIMEOUT_SECONDS, connect=5.0),
            limits=httpx.Limits(max_connections=10, max_keepalive_connections=5),
            transport=transport,
        )

    def _headers(self) -> dict[str, str]:
        if not self._secret:
            return {}
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + limits.PARSING_TOKEN_TTL_SECONDS,
            "jti": uuid.uuid4().hex,
        }
        return {"Authorization": f"Bearer {jwt.encode(claims, self._secret, algorithm='HS256')}"}

    async def _get_once(self, path: str, params: dict[str, str | int]) -> httpx.Response:
        response = await self._http.get(path, params=params, headers=self._headers())
        if response.status_code == 429 or response.status_code >= 500:
            raise _Retryable(response.status_code, retry_after_seconds(response.headers.get("Retry-After")))
        return response

    async def page(self, parsing_task_id: str, cursor: str | None, limit: int) -> ResultsPage:
        path = f"/v1/tasks/{quote(parsing_task_id, safe='')}/results"
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        retrying = AsyncRetrying(
            retry=retry_if_exception(_is_retryable),
            stop=stop_after_attempt(limits.PARSING_MAX_ATTEMPTS),
            wait=_Wait(),
            before_sleep=_log_retry,
            reraise=True,
        )
        try:
            response: httpx.Response = await retrying(self._get_once, path, params)
        except _Retryable as exc:
            raise ParsingUnavailable(
                f"The Parsing Service answered {exc} {limits.PARSING_MAX_ATTEMPTS} times in a row."
            ) from exc
        except httpx.TransportError as exc:
            raise ParsingUnavailable(
                f"The Parsing Service is unreachable ({type(exc).__name__}) "
                f"after {limits.PARSING_MAX_ATTEMPTS} attempts."
            ) from exc
        if response.status_code == 404:
            raise ParsingTaskNotFound(f"The Parsing Service has no task {parsing_task_id!r}.")
        if response.status_code in (401, 403):
            raise ParsingProtocolError(
                "The Parsing Service refused our service token; check the shared secret."
            )
        if response.status_code != 200:
            raise ParsingProtocolError(
                f"The Parsing Service refused the request (HTTP {response.status_code})."
            )
        try:
            return ResultsPage.model_validate_json(response.content)
        except ValidationError as exc:
            problem = (
                "is not JSON" if any(e["type"] == "json_invalid" for e in exc.errors()) else "misses fields"
            )
            raise ParsingProtocolError(
                f"A results page of parsing task {parsing_task_id!r} {problem}; the import stopped there."
            ) from exc

    async def aclose(self) -> None:
        await self._http.aclose()


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.warning(
        "parsing_retry",
        attempt=state.attempt_number,
        error=str(exc) if isinstance(exc, _Retryable) else type(exc).__name__,
        wait_seconds=round(state.upcoming_sleep, 2),
    )


def parsing_results(settings: Settings, sandbox: ParsingSandbox) -> ParsingResults:
    """The Parsing Service at ``parsing_url``; without one, the sandbox in process (ASGI, no sockets)."""
    secret = limits.parsing_token_secret(settings)
    if settings.parsing_url:
        return HttpParsingClient(settings.parsing_url, secret)
    app = create_parsing_app(token_secret=secret, sandbox=sandbox)
    return HttpParsingClient("http://parsing.sandbox", secret, transport=httpx.ASGITransport(app=app))
