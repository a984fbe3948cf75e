"""create_app(): middleware, routers, one error handler, the built UI at /."""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator import metrics as instrumentator_metrics
from prometheus_fastapi_instrumentator.metrics import Info
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response as StarletteResponse
from starlette.routing import Match
from starlette.types import Scope

from invite_service.api import accounts as account_endpoints
from invite_service.api import audiences as audience_endpoints
from invite_service.api import auth as auth_endpoints
from invite_service.api import contact_policy as contact_policy_endpoints
from invite_service.api import contacts as contact_endpoints
from invite_service.api import execution as execution_endpoints
from invite_service.api import health
from invite_service.api import imports as import_endpoints
from invite_service.api import integration_events as integration_event_endpoints
from invite_service.api import meta as meta_endpoints
from invite_service.api import notifications as notification_endpoints
from invite_service.api import statistics as statistics_endpoints
from invite_service.api import suppressions as suppression_endpoints
from invite_service.api import targets as target_endpoints
from invite_service.api import tasks as task_endpoints
from invite_service.api.audit import router as audit_router
from invite_service.api.http_guard import KNOWN_METHODS, BodyGuard, MethodGuard
from invite_service.api.streams import StreamSlots
from invite_service.config import Settings, get_settings
from invite_service.context.runtime import Runtime
from invite_service.db import Database
from invite_service.errors import MethodNotAllowed, NotFound, install_error_handlers, problem_responses
from invite_service.observability.logging import configure_logging
from invite_service.runtime import build_job_queue, build_runtime, runs_jobs_in_process, warn_if_simulated
from invite_service.workers.local import BackgroundRunner, LocalTicker

REQUEST_ID_HEADER = "X-Request-ID"
UI_DIST = Path(__file__).resolve().parent / "ui"
# Swagger UI and Redoc, from the pinned npm packages (frontend/package.json: swagger-ui-dist, redoc) that
# the UI build copies here (frontend/vite.config.ts): /docs and /redoc load nothing from the internet.
DOCS_ASSETS = UI_DIST / "docs-assets"
DOCS_ASSETS_PATH = "/docs-assets"


@functools.cache
def _http_metrics() -> Callable[[Info], None]:
    """The instrumentator's default HTTP metrics, registered once per process and shared by every app:
    a second registration would be refused as a duplicate and leave that app's requests uncounted."""
    instrumentation = instrumentator_metrics.default()
    if instrumentation is None:
        raise RuntimeError("the HTTP metrics were registered outside _http_metrics")

    def known_methods_only(info: Info) -> None:
        # The method is whatever token the client sent: as a label, each new one would be a series for
        # the life of the process (MethodGuard answers them 405; they are counted here as `other`).
        if info.method not in KNOWN_METHODS:
            info.method = "other"
        instrumentation(info)

    return known_methods_only


class SPAStaticFiles(StaticFiles):
    """The built UI; any other path serves index.html so client-side routes survive a reload."""

    async def get_response(self, path: str, scope: Scope) -> StarletteResponse:
        try:
            return await super().get_response(path, scope)
        except StarletteHTTPException as exc:
            if exc.status_code != 404:
                raise
            return await super().get_response("index.html", scope)


def create_app(
    settings: Settings | None = None, *, database: Database | None = None, runtime: Runtime | None = None
) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    warn_if_simulated(settings)
    db = database or (
        runtime.db if runtime else Database(settings.database_url, pool_size=settings.database_pool_size)
    )
    runner = BackgroundRunner()
    rt = runtime or build_runtime(settings, db)
    if rt.jobs is None:
        rt.use_jobs(build_job_queue(settings, runner, rt))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await rt.start()
        if runs_jobs_in_process(settings):  # embedded: this process is also the worker and the beat
            LocalTicker(runner, rt).start()
        yield
        await runner.shutdown()
        if runtime is None:
            await rt.aclose()
        if database is None and runtime is None:  # only dispose what we made
            await db.dispose()

    app = FastAPI(
        title="Invite Service",
        version="0.1.0",
        description="Runs invite and outreach tasks in messengers, inside every platform limit.",
        lifespan=lifespan,
        # Served below from local files, not FastAPI's defaults (a CDN).
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = rt.db  # its sessions publish jobs to this app's queue
    app.state.runner = runner
    app.state.runtime = rt

    app.state.event_streams = StreamSlots(settings.max_event_streams_per_user)

    # Innermost of the middleware (added first): they see the request after its id is set, and act before
    # any route reads a body. Junk methods are refused before routing (405), and every body is capped and
    # given up on when it stalls (413, 408).
    app.add_middleware(
        BodyGuard,
        max_bytes=settings.request_max_json_bytes,
        idle_timeout_seconds=settings.request_body_idle_timeout_seconds,
    )
    app.add_middleware(MethodGuard)

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

    # HTTP metrics (http_requests_total, http_request_duration_seconds) for the dashboard and the 5xx alert;
    # served with the domain metrics at GET /metrics. Labels stay bounded: the handler is the route's
    # template, or "none" for a path no route matches (should_group_untemplated), and the method one of
    # KNOWN_METHODS or "other".
    http = Instrumentator(
        should_group_status_codes=False,
        should_group_untemplated=True,
        excluded_handlers=["/metrics", "/health"],
    )
    http.add(_http_metrics()).instrument(app)

    install_error_handlers(app)
    app.include_router(health.router)
    _install_api_docs(app)

    if settings.embedded:  # token minting: no bearer token, no object to find
        app.include_router(auth_endpoints.router, prefix="/api/v1", responses=problem_responses(422))
    # Every error is problem+json (errors.py); the document says so for the statuses the routes answer.
    api = APIRouter(prefix="/api/v1", responses=problem_responses(401, 404, 409, 422))
    uploads = problem_responses(413, 415)  # api.deps.UploadRoute, and files of an unknown format
    api.include_router(contact_policy_endpoints.router)  # before /contacts/{id}
    api.include_router(task_endpoints.router)
    api.include_router(target_endpoints.router)
    api.include_router(execution_endpoints.router)
    api.include_router(account_endpoints.router)
    api.include_router(import_endpoints.router, responses=uploads)
    api.include_router(suppression_endpoints.router, responses=uploads)
    api.include_router(audit_router)
    api.include_router(statistics_endpoints.router)
    api.include_router(meta_endpoints.router)
    api.include_router(notification_endpoints.router)
    api.include_router(audience_endpoints.router)
    api.include_router(contact_endpoints.router)
    app.include_router(api)
    # The Integration Service's events: its own service token (401), no user-owned object in the path.
    app.include_router(
        integration_event_endpoints.router, prefix="/api/v1", responses=problem_responses(401, 422)
    )
    app.include_router(statistics_endpoints.metrics_router)  # GET /metrics for Prometheus

    served = list(app.router.routes)  # every route but the catch-all below and the UI

    @app.api_route("/api/{rest:path}", methods=sorted(KNOWN_METHODS), include_in_schema=False)
    async def api_not_found(request: Request, rest: str) -> None:
        # No route took this method and path. A path some route serves under other methods is a 405 naming
        # all of them (Starlette alone would name the first route's only); any other is a problem+json 404,
        # never the UI's index page.
        allowed = [
            method
            for method in sorted(KNOWN_METHODS)
            if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in served)
        ]
        if allowed:
            allow = ", ".join(allowed)
            raise MethodNotAllowed(f"{request.url.path} answers {allow}.", headers={"Allow": allow})
        raise NotFound(f"No API route /api/{rest}")

    if DOCS_ASSETS.is_dir():  # before the UI's catch-all: a missing asset is a 404, not the index page
        app.mount(DOCS_ASSETS_PATH, StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
    if (UI_DIST / "index.html").exists():
        app.mount("/", SPAStaticFiles(directory=UI_DIST, html=True), name="ui")
    else:

        @app.get("/", include_in_schema=False)
        async def no_ui() -> RedirectResponse:
            return RedirectResponse("/docs")

    return app


def _install_api_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` pointing at the local copies under ``/docs-assets`` (the UI
    build puts them there; without a built UI the pages load but stay blank). Every URL is the service's
    own: no CDN script, stylesheet, font, favicon or validator badge."""

    def base(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = base(request)
        assets = f"{root}{DOCS_ASSETS_PATH}/swagger-ui"
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon-32x32.png",
            # The online validator badge would send the document to validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = base(request)
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSETS_PATH}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS_PATH}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )
