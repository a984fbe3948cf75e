"""``POST /api/v1/integration/events``: events from the Integration Service (service token, not a user's).

202 on first receipt, 200 with ``duplicate: true`` for an id seen before (nothing changes), 401 for a
bad token, 422 for a bad body. The token is checked before the body is read.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from invite_service.api.deps import SessionDep, SettingsDep
from invite_service.api.params import UNREADABLE_BODY
from invite_service.auth.service_token import verify_integration_token
from invite_service.errors import Unauthorized
from invite_service.integration_events import service
from invite_service.integration_events.schemas import IntegrationEventIn, IntegrationEventOut


def _authenticate(request: Request) -> None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("An Integration Service bearer token is required", credentials_given=False)
    verify_integration_token(token.strip(), request.app.state.settings)


class ServiceTokenRoute(APIRoute):
    """The service token is checked before the body is read or validated (a bad token is a 401 even
    when the body is bad too)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def authenticated_first(request: Request) -> Response:
            _authenticate(request)
            return await handler(request)

        return authenticated_first


router = APIRouter(prefix="/integration", tags=["integration"], route_class=ServiceTokenRoute)


@router.post(
    "/events",
    response_model=IntegrationEventOut,
    status_code=202,
    responses={
        200: {"model": IntegrationEventOut, "description": "a duplicate id: nothing changed"},
        **UNREADABLE_BODY,
    },
)
async def receive_event(
    event: IntegrationEventIn, session: SessionDep, settings: SettingsDep, response: Response
) -> IntegrationEventOut:
    structlog.contextvars.bind_contextvars(user_id=event.user_id)
    out = await service.receive(session, settings, event)
    response.status_code = 200 if out.duplicate else 202
    return out
