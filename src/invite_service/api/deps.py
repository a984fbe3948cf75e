"""Request dependencies: settings, the database session and the current user."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any, TypeVar

import structlog
from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from invite_service.auth.jwt import decode_token
from invite_service.config import Settings
from invite_service.context.runtime import Runtime
from invite_service.db import Database
from invite_service.errors import Conflict, Unauthorized
from invite_service.kit.tabular.upload import BODY_LIMIT_SCOPE_KEY, upload_limit_route
from invite_service.models import InviteTask
from invite_service.stores.tasks import get_owned

_bearer = HTTPBearer(auto_error=False, description="JWT bearer token; `sub` is the user id")


# Dependencies are ``async def`` even when they do not await: FastAPI runs a plain ``def`` dependency in
# its threadpool, a thread hop per dependency per request.


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


_READ_ONLY_ENDPOINTS: set[Callable[..., Any]] = set()
EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])


def read_only(endpoint: EndpointT) -> EndpointT:
    """Marks a GET handler that only reads: its session runs each statement in autocommit, so the
    request costs no BEGIN and no COMMIT/ROLLBACK round trip. Only for handlers (and everything they
    call) that never write: an autocommit session has no transaction to make several writes atomic."""
    _READ_ONLY_ENDPOINTS.add(endpoint)
    return endpoint


def _reads_only(request: Request) -> bool:
    route = request.scope.get("route")
    return request.method in ("GET", "HEAD") and getattr(route, "endpoint", None) in _READ_ONLY_ENDPOINTS


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction a request: committed before the response is sent, rolled back on error. A
    ``read_only`` GET gets an autocommit session instead: no transaction to open or end."""
    database: Database = request.app.state.db
    if _reads_only(request):
        async with database.sessionmaker() as session:
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            yield session
        return
    async with database.sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except (IntegrityError, StaleDataError) as exc:
            await session.rollback()
            # A unique constraint lost to a concurrent request (e.g. the same Idempotency-Key).
            raise Conflict("The request conflicts with a concurrent change; retry it.") from exc
        except BaseException:
            await session.rollback()
            raise


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("A bearer token is required", credentials_given=False)
    user_id = decode_token(credentials.credentials, request.app.state.settings)
    request.state.user_id = user_id
    structlog.contextvars.bind_contextvars(user_id=user_id)
    return user_id


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
CurrentUser = Annotated[str, Depends(current_user)]


DatabaseDep = Annotated[Database, Depends(get_database)]


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated["Runtime", Depends(get_runtime)]


def _upload_max_bytes(request: Request) -> int:
    settings: Settings = request.app.state.settings
    return settings.import_max_upload_bytes


def _authenticate_upload(request: Request) -> None:
    """``current_user``'s check, from the header alone: upload and bulk routes run it before the body."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("A bearer token is required", credentials_given=False)
    decode_token(token.strip(), request.app.state.settings)


# Routes that take a file: 401 before the body is read, 413 above INVITE_IMPORT_MAX_UPLOAD_BYTES while it
# arrives.
UploadRoute = upload_limit_route(_upload_max_bytes, _authenticate_upload)


class BulkRoute(APIRoute):
    """Routes that take a large JSON body (``targets/bulk``): the token is checked before the body is read,
    and the body may be up to INVITE_REQUEST_MAX_BULK_JSON_BYTES (api.http_guard.BodyGuard counts it)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def authenticated_first(request: Request) -> Response:
            _authenticate_upload(request)
            settings: Settings = request.app.state.settings
            request.scope[BODY_LIMIT_SCOPE_KEY] = settings.request_max_bulk_json_bytes
            return await handler(request)

        return authenticated_first


async def owned_task(task_id: uuid.UUID, user_id: CurrentUser, session: SessionDep) -> InviteTask:
    """The path's task, loaded for the current user, or a 404."""
    return await get_owned(session, user_id, task_id)


OwnedTask = Annotated[InviteTask, Depends(owned_task)]
