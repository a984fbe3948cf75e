"""Liveness (`/health`, touches nothing) and the detailed readiness check of every configured backend
(public, so served from a cache refreshed at most every INVITE_HEALTH_DETAILED_CACHE_SECONDS)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from invite_service.config import Settings
from invite_service.db import Database
from invite_service.kit.clock import Clock
from invite_service.notifications import service as notifications

router = APIRouter(tags=["health"])


class Check(BaseModel):
    status: Literal["ok", "down", "not_configured"]
    latency_ms: float | None = None
    backend: str | None = None
    error: str | None = None
    # Figures a check reports beyond up/down (e.g. a delivery backlog).
    detail: dict[str, Any] | None = None


class Detailed(BaseModel):
    status: Literal["ok", "degraded"]
    checks: dict[str, Check]
    profile: Literal["embedded", "production"]
    # Simulators may serve this process (always in the embedded profile; INVITE_ALLOW_SANDBOX in production).
    sandbox_allowed: bool
    simulated: list[str]  # served by a simulator: "telegram", "sandbox", "parsing" (GET /api/v1/meta)


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


async def _timed(name: str, probe: Callable[[], Awaitable[Any]], limit_s: float, backend: str) -> Check:
    start = time.perf_counter()
    try:
        answer = await asyncio.wait_for(probe(), limit_s)
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; the type is reported
        return Check(
            status="down",
            backend=backend,
            error=type(exc).__name__,
            latency_ms=round((time.perf_counter() - start) * 1000, 2),
        )
    latency_ms = round((time.perf_counter() - start) * 1000, 2)
    if isinstance(answer, dict) and answer.get("simulated") is True:
        # A simulator behind a real URL (the compose stack's sandbox-integration): say so, whatever the URL.
        return Check(status="ok", backend="sandbox", latency_ms=latency_ms, detail={"simulated": True})
    return Check(status="ok", backend=backend, latency_ms=latency_ms)


def _scheme(url: str) -> str:
    return url.split(":", 1)[0]


async def _db_probe(db: Database) -> None:
    async with db.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _redis_probe(url: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(url, socket_connect_timeout=2)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def _broker_probe(url: str) -> None:
    from kombu.connection import Connection

    def connect() -> None:
        with Connection(url, connect_timeout=2) as conn:  # type: ignore[no-untyped-call]
            conn.ensure_connection(max_retries=1)

    await asyncio.to_thread(connect)


async def _http_probe(url: str) -> Any:
    """The service's ``/health`` answer (the sandbox servers add ``"simulated": true``)."""
    async with httpx.AsyncClient(timeout=2) as client:
        resp = await client.get(url.rstrip("/") + "/health")
        resp.raise_for_status()
        try:
            return resp.json()
        except ValueError:
            return None


async def _notifications_probe(db: Database, clock: Clock) -> dict[str, Any]:
    """The delivery backlog: deliveries due and not yet sent, and how long the oldest has waited."""
    now = clock.now()
    async with db.session() as session:
        pending, oldest = await notifications.backlog(session, now)
    waited = None if oldest is None else round((now - oldest).total_seconds(), 1)
    return {"backlog": pending, "oldest_waiting_seconds": waited}


async def detailed_checks(settings: Settings, db: Database, clock: Clock | None = None) -> Detailed:
    timeout = settings.health_timeout_seconds
    unset = Check(status="not_configured")
    probes: dict[str, Awaitable[Check]] = {
        "database": _timed("database", lambda: _db_probe(db), timeout, db.backend),
    }
    if settings.redis_url:
        probes["redis"] = _timed("redis", lambda: _redis_probe(settings.redis_url), timeout, "redis")
    if settings.broker_url:
        probes["broker"] = _timed(
            "broker", lambda: _broker_probe(settings.broker_url), timeout, _scheme(settings.broker_url)
        )
    if settings.integration_url:
        probes["integration"] = _timed(
            "integration", lambda: _http_probe(settings.integration_url), timeout, "http"
        )
    if settings.parsing_url:
        probes["parsing"] = _timed("parsing", lambda: _http_probe(settings.parsing_url), timeout, "http")
    backlog: dict[str, Any] = {}

    async def notifications_probe() -> None:
        backlog.update(await _notifications_probe(db, clock or Clock()))

    probes["notifications"] = _timed("notifications", notifications_probe, timeout, db.backend)
    results = dict(zip(probes, await asyncio.gather(*probes.values()), strict=True))
    if backlog:
        results["notifications"].detail = backlog
    checks = {
        "database": results["database"],
        "redis": results.get("redis", unset.model_copy(update={"backend": "in-process"})),
        "broker": results.get("broker", unset.model_copy(update={"backend": "in-process"})),
        "integration": results.get("integration", unset.model_copy(update={"backend": "sandbox"})),
        "parsing": results.get("parsing", unset.model_copy(update={"backend": "sandbox"})),
        "notifications": results["notifications"],
    }
    ok = all(c.status != "down" for c in checks.values())
    simulated = list(settings.simulated)
    for name, served in (("integration", "telegram"), ("parsing", "parsing")):
        if checks[name].detail == {"simulated": True} and served not in simulated:
            simulated.append(served)
    return Detailed(
        status="ok" if ok else "degraded",
        checks=checks,
        profile=settings.profile.value,
        sandbox_allowed=settings.sandbox_allowed,
        simulated=simulated,
    )


@router.get(
    "/api/v1/health/detailed",
    response_model=Detailed,
    responses={503: {"model": Detailed, "description": "a configured backend is down"}},
)
async def health_detailed(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    cache: _CachedChecks | None = getattr(request.app.state, "detailed_health", None)
    if cache is None:
        cache = request.app.state.detailed_health = _CachedChecks(settings.health_detailed_cache_seconds)
    clock = request.app.state.runtime.clock
    result, age = await cache.get(lambda: detailed_checks(settings, request.app.state.db, clock))
    return JSONResponse(
        result.model_dump(),
        status_code=200 if result.status == "ok" else 503,
        headers={"Age": str(int(age)), "Cache-Control": "no-store"},
    )


class _CachedChecks:
    """The last detailed check, reused for ``ttl`` seconds; one check at a time (callers wait for it).

    The route is public (load balancers and people look at it without a token) and each check opens a
    database connection and a connection to each backend: uncached, anyone could spend our pool on it.
    Nothing automated needs it fresher than a few seconds (the container healthcheck uses ``/health``).
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = asyncio.Lock()
        self._result: Detailed | None = None
        self._at = 0.0

    async def get(self, check: Callable[[], Awaitable[Detailed]]) -> tuple[Detailed, float]:
        async with self._lock:
            if self._result is None or time.monotonic() - self._at >= self.ttl:
                self._result = await check()
                self._at = time.monotonic()
            return self._result, time.monotonic() - self._at
