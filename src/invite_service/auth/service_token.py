"""The Integration Service's bearer token on the events it posts to us (contract ``webhooks``).

HS256 with the secret we share for our own calls to it (INVITE_INTEGRATION_TOKEN_SECRET, or during a
rotation INVITE_INTEGRATION_TOKEN_SECRET_PREVIOUS); issuer and
subject ``integration-service``, audience ``invite-service``, short-lived. Not a user token: it names no
user, and a user token is not accepted here (wrong issuer, audience and, normally, key).
"""

from __future__ import annotations

import jwt as pyjwt

from invite_service.config import Settings
from invite_service.errors import Unauthorized
from invite_service.kit.service_http import INTEGRATION_SERVICE_NAME, SERVICE_NAME, verify_service_token


def verify_integration_token(token: str, settings: Settings) -> None:
    """``Unauthorized`` unless the token is a valid Integration Service token; always so when no secret
    is configured (the embedded profile without an Integration Service)."""
    secrets = settings.integration_token_secrets
    if not secrets:
        raise Unauthorized("Inbound integration events are off: no INVITE_INTEGRATION_TOKEN_SECRET")
    try:
        verify_service_token(
            token,
            secrets,
            audience=SERVICE_NAME,
            issuer=INTEGRATION_SERVICE_NAME,
            leeway=settings.jwt_leeway_seconds,
        )
    except pyjwt.ExpiredSignatureError as exc:
        raise Unauthorized("Token has expired") from exc
    except pyjwt.PyJWTError as exc:
        raise Unauthorized(f"Invalid token: {type(exc).__name__}") from exc
