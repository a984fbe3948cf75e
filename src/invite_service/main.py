"""create_app(): middleware, routers, one error handler, the built UI at /."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from invite_service.auth import endpoints as auth_endpoints
from invite_service.config import Settings, get_settings
from invite_service.db import Database
from invite_service.errors import install_error_handlers
from invite_service.invite_tasks import endpoints as task_endpoints
from invite_service.observability import health
from invite_service.observability.audit_endpoints import router as audit_router
from invite_service.observability.logging import configure_logging
from invite_service.targets import endpoints as target_endpoints
from invite_service.workers.local import BackgroundRunner

REQUEST_ID_HEADER = "X-Request-ID"
UI_DIST = Path(__file__).resolve().parent / "ui"


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    db = database or Database(settings.database_url, pool_size=settings.database_pool_size)
    runner = BackgroundRunner()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await runner.shutdown()
        if database is None:  # only dispose what we made
            await db.dispose()

    app = FastAPI(
        title="Invite Service",
        version="0.1.0",
        description="Runs invite and outreach tasks in messengers, inside every platform limit.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.runner = runner

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=[REQUEST_ID_HEADER],
        )

    @app.middleware("http")
    async def request_id(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        request.state.request_id = rid
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=rid)
        response = await call_next(request)
        response.headers[REQUEST_ID_HEADER] = rid
        return response

    install_error_handlers(app)
    app.include_router(health.router)

    api = APIRouter(prefix="/api/v1")
    if settings.embedded:
        api.include_router(auth_endpoints.router)
    api.include_router(task_endpoints.router)
    api.include_router(target_endpoints.router)
    api.include_router(audit_router)
    app.include_router(api)

    if (UI_DIST / "index.html").exists():
        app.mount("/", StaticFiles(directory=UI_DIST, html=True), name="ui")
    return app
