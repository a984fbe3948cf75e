"""Posting inbound events to the Invite Service, as the Integration Service does (contract ``webhooks``).

A short-lived HS256 service token (issuer and subject ``integration-service``, audience
``invite-service``) on every attempt; a 5xx or a connection failure is retried a few times with backoff
(tenacity), a 4xx never (the event is wrong or the token is, and a retry would not change that).
"""

from __future__ import annotations

from typing import Any

import httpx

from invite_service.kit.service_http import (
    INTEGRATION_SERVICE_NAME,
    SERVICE_NAME,
    Retryable,
    RetryPolicy,
    mint_service_token,
    retrying,
)


def mint_integration_token(secret: str, *, now: float | None = None, ttl_seconds: int = 60) -> str:
    """The token the Integration Service signs its events with (as the real one does)."""
    return mint_service_token(
        secret, audience=SERVICE_NAME, issuer=INTEGRATION_SERVICE_NAME, now=now, ttl_seconds=ttl_seconds
    )


class EventPoster:
    def __init__(
        self,
        url: str,
        token_secret: str,
        *,
        policy: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.token_secret = token_secret
        self.policy = policy or RetryPolicy(max_attempts=4, backoff_initial=0.2, backoff_max=2.0)
        self.transport = transport

    async def post(self, event: dict[str, Any]) -> httpx.Response:
        """The Invite Service's answer; the last 5xx when every attempt got one, and the last connection
        error is raised when no attempt got an answer."""
        last: httpx.Response | None = None
        async with httpx.AsyncClient(transport=self.transport, timeout=10.0) as client:
            try:
                async for attempt in retrying(self.policy):
                    with attempt:
                        headers = {"Authorization": f"Bearer {mint_integration_token(self.token_secret)}"}
                        try:
                            last = await client.post(self.url, json=event, headers=headers)
                        except httpx.TransportError as exc:
                            last = None  # no answer this time: an earlier 5xx is not the outcome
                            raise Retryable(None, type(exc).__name__) from exc
                        if last.status_code >= 500:
                            raise Retryable(last.status_code, "SERVER_ERROR")
            except Retryable:
                if last is None:
                    raise
        assert last is not None
        return last
