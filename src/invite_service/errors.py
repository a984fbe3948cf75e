"""Typed domain errors, rendered by one handler as RFC 9457 problem+json."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class FieldError:
    loc: tuple[str | int, ...]
    msg: str
    type: str = "value_error"

    def as_dict(self) -> dict[str, Any]:
        return {"loc": shown_loc(self.loc), "msg": self.msg, "type": self.type}


def shown_loc(loc: Any) -> list[str | int]:
    """A location as answered: a caller's key may hold NUL, which a stored answer (an Idempotency-Key's,
    in PostgreSQL JSONB) cannot."""
    return [p.replace("\x00", "\ufffd") if isinstance(p, str) else p for p in loc]


class ProblemFieldError(BaseModel):
    """One invalid field: where (pydantic's location, e.g. ``["body", "settings"]``), why, and the kind."""

    loc: list[str | int]
    msg: str
    type: str


class PlaceholderProblem(BaseModel):
    """A placeholder without fallback that no target can fill (``UNKNOWN_PLACEHOLDER``)."""

    name: str
    suggestion: str | None = Field(
        description="The known field within edit distance 2 (did you mean), or null"
    )
    closest: str | None = Field(description="The nearest known field, however far")


def _absent_when_unset(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # the field is left out of the body, never sent as null


class Problem(BaseModel):
    """The body of every error answer (RFC 9457), as ``problem()`` renders it; extensions are optional."""

    type: str = Field(description="urn:invite-service:problem:<code>")
    title: str
    status: int
    detail: str
    code: str = Field(
        description="A stable, machine-readable error code, e.g. `validation_error`, `not_found`"
    )
    instance: str = Field(description="The request path")
    request_id: str | SkipJsonSchema[None] = Field(
        default=None,
        json_schema_extra=_absent_when_unset,
        description="The X-Request-ID of the request; it identifies the request in the logs",
    )
    errors: list[ProblemFieldError] | SkipJsonSchema[None] = Field(
        default=None,
        json_schema_extra=_absent_when_unset,
        description="One entry for each invalid field (422)",
    )
    current_status: str | SkipJsonSchema[None] = Field(
        default=None,
        json_schema_extra=_absent_when_unset,
        description="A refused task transition or change (409): the task's status now",
    )
    # Issue 15 (templates): the extensions of UNKNOWN_PLACEHOLDER, CAP_REACHED and ACCOUNT_WAITING.
    placeholders: list[PlaceholderProblem] | SkipJsonSchema[None] = Field(
        default=None,
        json_schema_extra=_absent_when_unset,
        description="UNKNOWN_PLACEHOLDER: each placeholder no target can fill, and the known names near it",
    )
    until: str | SkipJsonSchema[None] = Field(
        default=None,
        json_schema_extra=_absent_when_unset,
        description="CAP_REACHED, ACCOUNT_WAITING: when the account can send again (UTC, ISO 8601)",
    )
    window_seconds: int | SkipJsonSchema[None] = Field(
        default=None,
        json_schema_extra=_absent_when_unset,
        description="CAP_REACHED: the cap window that is full (3600 hourly, 86400 daily)",
    )
    account_id: str | SkipJsonSchema[None] = Field(
        default=None,
        json_schema_extra=_absent_when_unset,
        description="CAP_REACHED, ACCOUNT_WAITING, ACCOUNT_BUSY: the account that cannot send now",
    )
    reason: str | SkipJsonSchema[None] = Field(
        default=None,
        json_schema_extra=_absent_when_unset,
        description="ACCOUNT_WAITING: `flood_wait` (a platform wait) or `pacing` (the spacing of sends)",
    )


_STATUS_DESCRIPTIONS = {
    401: "Missing, expired or invalid bearer token",
    404: "Not found (another user's object is not found either)",
    409: "Conflicts with the object's state or with a concurrent change",
    413: "The upload is over the size limit",
    415: "The file's format is not recognised",
    422: "Invalid input; `errors` names each invalid field",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a router: each status answers problem+json with the ``Problem`` schema."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        status: {
            "description": _STATUS_DESCRIPTIONS.get(status) or HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": schema}},
        }
        for status in statuses
    }


def _problem_schemas() -> dict[str, Any]:
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    defs: dict[str, Any] = schema.pop("$defs", {})
    return {**defs, "Problem": schema}


def _document_problems(app: FastAPI) -> None:
    """Adds ``Problem`` to the OpenAPI components, for the ``problem_responses()`` that refer to it."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()
        document.setdefault("components", {}).setdefault("schemas", {}).update(_problem_schemas())
        return document

    app.openapi = openapi  # type: ignore[method-assign]


class AppError(Exception):
    """Base of every error a service may raise; status and code are class-level defaults."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = list(errors)
        self.headers = headers or {}
        self.extra = extra or {}


class NotFound(AppError):
    status, code, title = 404, "not_found", "Not found"


class Unauthorized(AppError):
    status, code, title = 401, "unauthorized", "Unauthorized"

    def __init__(
        self, detail: str = "Missing or invalid bearer token", *, credentials_given: bool = True
    ) -> None:
        # RFC 6750 §3.1: no error code when the request carried no credentials at all.
        challenge = 'Bearer error="invalid_token"' if credentials_given else "Bearer"
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(AppError):
    status, code, title = 403, "forbidden", "Forbidden"


class Conflict(AppError):
    status, code, title = 409, "conflict", "Conflict"


class InvalidInput(AppError):
    status, code, title = 422, "validation_error", "Invalid input"


class PayloadTooLarge(AppError):
    status, code, title = 413, "payload_too_large", "Payload too large"


class ServiceUnavailable(AppError):
    status, code, title = 503, "service_unavailable", "Service unavailable"


class DatabaseUnreachable(ConnectionError):
    """No connection to the database could be made (it is down, restarting, or the network is): an outage
    the caller can wait out, raised by the pool (``db.make_engine``) instead of the driver's bare ``OSError``,
    so the API answers 503 without mistaking a file's ``OSError`` for it. A ``ConnectionError`` still, so
    every ``except OSError`` that retries a database call keeps retrying it."""


def lost_database_connection(exc: BaseException) -> bool:
    """A statement failed because its connection was gone (SQLAlchemy has invalidated the pool)."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


DATABASE_BUSY_RETRY_SECONDS = 5
# A lost connection invalidates the pool, so the next request connects anew; an unreachable database is a
# restart or an outage: either way worth a retry in a moment, not a 500.
DATABASE_UNAVAILABLE_RETRY_SECONDS = 2


def _database_503(request: Request, exc: Exception, code: str, detail: str, retry_after: int) -> JSONResponse:
    """The database cannot serve the request now (busy or gone): 503 and when to retry, logged by ``code``."""
    import structlog

    log = structlog.get_logger("invite_service.errors")
    log.warning(code, path=request.url.path, error=type(exc).__name__)
    return problem(
        request,
        status=503,
        code=code,
        title=ServiceUnavailable.title,
        detail=detail,
        headers={"Retry-After": str(retry_after)},
    )


def problem(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body = Problem(
        type=f"urn:invite-service:problem:{code}",
        title=title,
        status=status,
        detail=detail,
        code=code,
        instance=request.url.path,
        request_id=getattr(request.state, "request_id", None) or None,
        errors=[ProblemFieldError.model_validate(e) for e in errors] or None,
    ).model_dump(mode="json", exclude_none=True)
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        # Drop pydantic's echo of the input: it may hold secrets or phone numbers.
        loc = shown_loc(err.get("loc", ()))
        out.append({"loc": loc, "msg": err.get("msg", ""), "type": err.get("type", "")})
    return out


def install_error_handlers(app: FastAPI) -> None:
    _document_problems(app)

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        return problem(
            request,
            status=exc.status,
            code=exc.code,
            title=exc.title,
            detail=exc.detail,
            errors=[e.as_dict() for e in exc.errors],
            headers=exc.headers,
            extra=exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(
            request,
            status=422,
            code=InvalidInput.code,
            title=InvalidInput.title,
            detail="The request has invalid fields; see errors.",
            errors=_validation_errors(exc),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(
            request,
            status=exc.status_code,
            code="http_error",
            title=str(exc.detail) if exc.status_code < 500 else "Server error",
            detail=str(exc.detail),
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(PoolTimeout)
    async def _pool_timeout(request: Request, exc: PoolTimeout) -> JSONResponse:
        # Every database connection stayed busy for the pool's whole timeout: an overload the client can
        # ride out, not a fault of its request (a 500 would say the latter).
        detail = "Every database connection is busy; try again shortly."
        return _database_503(request, exc, "database_busy", detail, DATABASE_BUSY_RETRY_SECONDS)

    @app.exception_handler(DatabaseUnreachable)
    @app.exception_handler(DBAPIError)
    async def _database_gone(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, DatabaseUnreachable) and not lost_database_connection(exc):
            raise exc  # any other database error is a fault: the unhandled handler's 500
        detail = "The database connection was lost or cannot be made; try again shortly."
        return _database_503(request, exc, "database_unavailable", detail, DATABASE_UNAVAILABLE_RETRY_SECONDS)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        import structlog

        # From request.state, not only the log context: this handler runs outside the context the request's
        # dependencies bound theirs in (the auth dependency's user_id never reaches it otherwise).
        context = {
            key: value
            for key in ("request_id", "user_id")
            if (value := getattr(request.state, key, None)) is not None
        }
        structlog.get_logger("invite_service.errors").exception("unhandled_error", **context)
        return problem(
            request,
            status=500,
            code="internal_error",
            title="Internal server error",
            detail="An unexpected error occurred; the request id identifies it in the logs.",
        )


class MethodNotAllowed(AppError):
    status, code, title = 405, "method_not_allowed", "Method not allowed"


class RequestTimeout(AppError):
    status, code, title = 408, "request_timeout", "Request timeout"


class TooManyRequests(AppError):
    status, code, title = 429, "too_many_requests", "Too many requests"
