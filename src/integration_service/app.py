"""The contract's HTTP API (``docs/contracts/integration-service.yaml``) over Telethon clients.

Wire format as the sandbox's (``invite_service.sandbox.integration_app``): errors are
``{code, retry_after, detail, rpc_code}``, a refused token is 401 with ``WWW-Authenticate``, an invalid
request is ``400 VALIDATION_ERROR``. Logs name operations, accounts, statuses and codes — never a
phone number, a session, a token or a message text.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import structlog
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from telethon import events

from integration_service.accounts import AccountNotFound, AccountStore
from integration_service.actions import Actions
from integration_service.config import Settings
from integration_service.crypto import SessionCipher, SessionKeyError
from integration_service.db import engine_for
from integration_service.events import RAW_UPDATES, Outbox, Poster, reply_handler
from integration_service.operations import NotSent, OperationStore, Payload, error
from integration_service.schemas import Platform
from integration_service.telegram import (
    ClientFactory,
    ClientPool,
    TelegramClientLike,
    Unusable,
    telethon_factory,
)
from invite_service.adapters.telegram.contract import InviteBody, MessageBody
from invite_service.kit.service_http import INTEGRATION_SERVICE_NAME, SERVICE_NAME, verify_service_token

log = structlog.get_logger(__name__)
# Calls come from the Invite Service, to us.
AUDIENCE, ISSUER = INTEGRATION_SERVICE_NAME, SERVICE_NAME
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.calls = Counter(
            "integration_calls",
            "Contract calls by operation and outcome",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "integration_call_seconds", "Contract call latency", ["operation"], registry=self.registry
        )
        self.outbox = Counter(
            "integration_outbox_deliveries", "Reply deliveries by result", ["result"], registry=self.registry
        )
        self.outbox_depth = Gauge(
            "integration_outbox_depth", "Replies not delivered yet", registry=self.registry
        )


class ApiError(Exception):
    def __init__(self, payload: Payload) -> None:
        super().__init__(payload[1]["code"])
        self.payload = payload


def create_app(
    settings: Settings,
    *,
    client_factory: ClientFactory | None = None,
    clock: Clock = utcnow,
    events_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings.check_serving()
    factory = client_factory or telethon_factory(settings.telegram_api_id, settings.telegram_api_hash)
    engine = engine_for(settings.database_url)
    store = AccountStore(engine, clock)
    operations = OperationStore(engine, clock, wait_seconds=settings.key_wait_seconds)
    outbox = Outbox(engine, clock)
    metrics = Metrics()

    def on_client(row: Any, client: TelegramClientLike) -> None:
        handler = reply_handler(outbox, row.id, row.user_id, client)
        client.add_event_handler(handler, events.Raw(list(RAW_UPDATES)))

    pool = ClientPool(
        store,
        SessionCipher(settings.session_key),
        factory,
        call_timeout=settings.call_timeout_seconds,
        on_client=on_client,
    )
    actions = Actions(pool, store)
    refreshed: set[str] = set()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        interrupted = await operations.recover()
        pruned = await operations.prune(timedelta(hours=settings.operation_retention_hours))
        log.info("integration_started", interrupted_keys=interrupted, pruned_keys=pruned)
        tasks: list[asyncio.Task[Any]] = []
        if settings.events_url:
            poster = Poster(
                outbox,
                settings.events_url,
                settings.token_secret,
                clock,
                backoff_initial=settings.outbox_backoff_initial_seconds,
                backoff_max=settings.outbox_backoff_max_seconds,
                poll_seconds=settings.outbox_poll_seconds,
                transport=events_transport,
            )
            poster.on_result = lambda result: metrics.outbox.labels(result).inc()
            tasks.append(asyncio.create_task(poster.run(), name="outbox-poster"))
        if settings.listen:
            log.info("integration_listening", accounts=await actions.connect_all())
        # With listening, clients stay connected to hear replies; without, idle ones are closed.
        idle = None if settings.listen else settings.idle_disconnect_seconds
        retention = timedelta(hours=settings.operation_retention_hours)
        tasks.append(
            asyncio.create_task(_maintain(pool, operations, outbox, idle, retention), name="maintenance")
        )
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await pool.close()
            await engine.dispose()

    app = FastAPI(title="Integration Service", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.pool, app.state.store, app.state.outbox, app.state.operations = pool, store, outbox, operations

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        status, body = exc.payload
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        where = "; ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors())
        status, body = error(400, "VALIDATION_ERROR", where)
        return JSONResponse(body, status_code=status)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics")
    async def prometheus() -> Response:
        metrics.outbox_depth.set(await outbox.depth())
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def answer(
        operation: str, account_id: str | None, work: Callable[[], Awaitable[Payload]]
    ) -> Response:
        started = time.perf_counter()
        try:
            status, body = await work()
        except AccountNotFound:
            status, body = error(404, "ACCOUNT_NOT_FOUND", "no such account")
        except (NotSent, Unusable) as exc:
            status, body = exc.payload
        except SessionKeyError as exc:
            status, body = error(500, "INTERNAL", str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug is a contract 5xx (retried by key), not a crash
            # Only the type: a message may carry a phone number or a username.
            log.error("integration_call_failed", operation=operation, error=type(exc).__name__)
            status, body = error(500, "INTERNAL", "the service failed during this call")
        metrics.latency.labels(operation).observe(time.perf_counter() - started)
        outcome = "ok" if status < 400 else str(body.get("code", status))[:40]
        metrics.calls.labels(operation, "ok" if status < 400 else "error").inc()
        log.info(
            "integration_call", operation=operation, account_id=account_id, status=status, outcome=outcome
        )
        return JSONResponse(body, status_code=status)

    async def keyed(
        request: Request, operation: str, account_id: str, work: Callable[[], Awaitable[Payload]]
    ) -> Payload:
        key = request.headers.get("idempotency-key")
        await store.get(account_id)  # an unknown account is a 404 and records no key
        if not key:
            return await _unwrap(work)
        return await operations.run(key, operation, account_id, await request.body(), lambda: _unwrap(work))

    async def account_wire(account_id: str) -> dict[str, Any]:
        if account_id not in refreshed:
            refreshed.add(account_id)
            row = await store.get(account_id)
            if row.status == "active" and row.session_ciphertext is not None:
                with contextlib.suppress(NotSent, Unusable, SessionKeyError):
                    await actions.refresh_me(account_id)
        return store.wire(await store.get(account_id))

    router = APIRouter(prefix="/v1", dependencies=[Depends(_authenticate(settings.accepted_token_secrets))])

    @router.get("/users/{user_id}/accounts")
    async def list_accounts(user_id: str, platform: Platform | None = None) -> Response:
        async def work() -> Payload:
            rows = [r for r in await store.list(user_id) if platform in (None, r.platform)]
            return 200, {"accounts": [await account_wire(r.id) for r in rows]}

        return await answer("list_accounts", None, work)

    @router.get("/accounts/{account_id}")
    async def get_account(account_id: str) -> Response:
        async def work() -> Payload:
            return 200, await account_wire(account_id)

        return await answer("get_account", account_id, work)

    @router.post("/accounts/{account_id}/invite")
    async def invite(request: Request, account_id: str, body: InviteBody) -> Response:
        users = [ref.wire() for ref in body.users]
        return await answer(
            "invite",
            account_id,
            lambda: keyed(
                request, "invite", account_id, lambda: actions.invite(account_id, body.chat, users)
            ),
        )

    @router.post("/accounts/{account_id}/messages")
    async def send_message(request: Request, account_id: str, body: MessageBody) -> Response:
        key = request.headers.get("idempotency-key") or f"unkeyed-{time.time_ns()}"
        peer = body.peer.wire()
        return await answer(
            "send_message",
            account_id,
            lambda: keyed(
                request,
                "send_message",
                account_id,
                lambda: actions.send_message(account_id, peer, body.text, key),
            ),
        )

    @router.get("/chats/{chat:path}/members/{user}")
    async def is_member(chat: str, user: str, account_id: str = Query(min_length=1)) -> Response:
        return await answer("is_member", account_id, lambda: actions.is_member(account_id, chat, user))

    @router.get("/operations/{key}")
    async def operation(key: str) -> Response:
        async def work() -> Payload:
            return 200, await operations.lookup(key)

        return await answer("operation", None, work)

    app.include_router(router)
    return app


async def _unwrap(work: Callable[[], Awaitable[Payload]]) -> Payload:
    """Refusals that were decided after the key was recorded are answers too (so they replay)."""
    try:
        return await work()
    except Unusable as exc:
        return exc.payload


async def _maintain(
    pool: ClientPool,
    operations: OperationStore,
    outbox: Outbox,
    idle_seconds: float | None,
    retention: timedelta,
) -> None:
    """Close idle clients (when not listening); prune keys and finished replies past their retention."""
    interval = min(max((idle_seconds or 60) / 4, 1.0), 60.0)
    while True:
        await asyncio.sleep(interval)
        try:
            if idle_seconds is not None:
                await pool.reap_idle(idle_seconds)
            await operations.prune(retention)
            await outbox.prune(retention)
        except Exception:  # a database or network hiccup: the next round tries again
            log.exception("maintenance_round_failed")


def _authenticate(secrets: Sequence[str]) -> Callable[[Request], None]:
    def check(request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(error(401, "UNAUTHORIZED", "a bearer service token is required"))
        try:
            verify_service_token(token, secrets, audience=AUDIENCE, issuer=ISSUER)
        except jwt.PyJWTError as exc:
            raise ApiError(
                error(401, "UNAUTHORIZED", f"invalid service token ({type(exc).__name__})")
            ) from exc

    return check
