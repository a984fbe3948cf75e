"""Messenger adapters: the contract the engine calls (``base``) and per-platform implementations."""

from invite_service.adapters.base import (
    AccountStatus,
    InvitePlatformAdapter,
    InviteResult,
    MissingInviteeReason,
    Outcome,
    PlatformAccount,
    RateLimitStatus,
    TargetRef,
    WindowUsage,
    not_sent,
)

__all__ = [
    "AccountStatus",
    "InvitePlatformAdapter",
    "InviteResult",
    "MissingInviteeReason",
    "Outcome",
    "PlatformAccount",
    "RateLimitStatus",
    "TargetRef",
    "WindowUsage",
    "not_sent",
]
