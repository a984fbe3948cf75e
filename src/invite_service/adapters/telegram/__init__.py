"""Telegram through the Integration Service: the adapter, its error table, the HTTP client and its types."""

from invite_service.adapters.telegram.client import (
    SERVICE_AUDIENCE,
    ClientCounters,
    IntegrationClient,
    RetryPolicy,
    mint_service_token,
)
from invite_service.adapters.telegram.types import (
    AccountInfo,
    Delivery,
    IntegrationAuthError,
    IntegrationError,
    IntegrationProtocolError,
    IntegrationUnavailable,
    Invitee,
    InviteResponse,
    MessageResponse,
    MissingInviteeInfo,
    WindowInfo,
)

__all__ = [
    "SERVICE_AUDIENCE",
    "AccountInfo",
    "ClientCounters",
    "Delivery",
    "IntegrationAuthError",
    "IntegrationClient",
    "IntegrationError",
    "IntegrationProtocolError",
    "IntegrationUnavailable",
    "InviteResponse",
    "Invitee",
    "MessageResponse",
    "MissingInviteeInfo",
    "RetryPolicy",
    "WindowInfo",
    "mint_service_token",
]
