"""The Parsing Service client (``docs/contracts/parsing-service.yaml``): cursor pages of a parsing task.

One pooled ``httpx.AsyncClient`` per client, a short-lived HS256 service token per call, and the
Integration Service client's retry rule (``kit/service_http.py``) on connection errors, 5xx and 429
(``Retry-After`` honoured), never on another 4xx. A 200 that breaks the contract (invalid JSON, missing
fields) is not retried: the job fails with it.

Where the service answers is the runtime's ``parsing`` endpoint (``runtime.py`` chooses it: the
``INVITE_PARSING_URL``, or the sandbox in process through an ASGI transport).
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import quote

import httpx
import structlog
from pydantic import BaseModel, ConfigDict, ValidationError
from tenacity import RetryCallState

from invite_service.config import Settings
from invite_service.context.runtime import ServiceEndpoint
from invite_service.imports import file_limits as limits
from invite_service.imports.errors import ParsingProtocolError, ParsingTaskNotFound, ParsingUnavailable
from invite_service.kit.service_http import (
    Retryable,
    RetryPolicy,
    mint_service_token,
    retry_after_header,
    retrying,
)

log = structlog.get_logger(__name__)
AUDIENCE = "parsing-service"


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


def parsing_retry_policy() -> RetryPolicy:
    # Read when a client is made, so the constants stay the one place to tune (and to shorten in tests).
    return RetryPolicy(
        max_attempts=limits.PARSING_MAX_ATTEMPTS,
        backoff_initial=limits.PARSING_BACKOFF_BASE_SECONDS,
        backoff_max=limits.PARSING_BACKOFF_MAX_SECONDS,
        jitter=limits.PARSING_BACKOFF_BASE_SECONDS,
        max_retry_after=limits.PARSING_RETRY_AFTER_MAX_SECONDS,
    )


class HttpParsingClient:
    def __init__(
        self,
        base_url: str,
        token_secret: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ):
        self._secret = token_secret
        self.retry = retry or parsing_retry_policy()
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(limits.PARSING_TIMEOUT_SECONDS, connect=5.0),
            limits=httpx.Limits(max_connections=10, max_keepalive_connections=5),
            transport=transport,
        )

    def _headers(self) -> dict[str, str]:
        if not self._secret:
            return {}
        token = mint_service_token(
            self._secret, audience=AUDIENCE, ttl_seconds=limits.PARSING_TOKEN_TTL_SECONDS
        )
        return {"Authorization": f"Bearer {token}"}

    async def _get_once(self, path: str, params: dict[str, str | int]) -> httpx.Response:
        try:
            response = await self._http.get(path, params=params, headers=self._headers())
        except httpx.TransportError as exc:
            raise Retryable(None, type(exc).__name__) from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise Retryable(response.status_code, "HTTP", retry_after_header(response.headers))
        return response

    async def page(self, parsing_task_id: str, cursor: str | None, limit: int) -> ResultsPage:
        path = f"/v1/tasks/{quote(parsing_task_id, safe='')}/results"
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        try:
            response: httpx.Response = await retrying(self.retry, before_sleep=_log_retry)(
                self._get_once, path, params
            )
        except Retryable as exc:
            attempts = self.retry.max_attempts
            if exc.status is None:
                raise ParsingUnavailable(
                    f"The Parsing Service is unreachable ({exc.code}) after {attempts} attempts."
                ) from exc
            raise ParsingUnavailable(
                f"The Parsing Service answered HTTP {exc.status} {attempts} times in a row."
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
        error=str(exc) if isinstance(exc, Retryable) else type(exc).__name__,
        wait_seconds=round(state.upcoming_sleep, 2),
    )


def parsing_results(settings: Settings, endpoint: ServiceEndpoint | None) -> ParsingResults:
    """A client of the Parsing Service at ``endpoint``."""
    if endpoint is None:
        raise ParsingUnavailable("No Parsing Service is configured for this process.")
    secret = limits.parsing_token_secret(settings)
    return HttpParsingClient(endpoint.base_url, secret, transport=endpoint.transport())
