"""A simulated Telegram for the embedded profile and for tests; independent of HTTP and of our adapters."""

from invite_service.sandbox.model import (
    AccountLimits,
    AccountStatus,
    DoubleSend,
    InvitedUsers,
    LedgerEntry,
    MissingInvitee,
    RpcError,
    SentMessage,
    SimAccount,
    SimulatorConfig,
    TargetFate,
    WindowBreach,
    canonical_key,
    find_double_sends,
    find_window_breaches,
    target_fate,
)
from invite_service.sandbox.simulator import NowSource, TelegramSimulator, UnknownAccountError

__all__ = [
    "AccountLimits",
    "AccountStatus",
    "DoubleSend",
    "InvitedUsers",
    "LedgerEntry",
    "MissingInvitee",
    "NowSource",
    "RpcError",
    "SentMessage",
    "SimAccount",
    "SimulatorConfig",
    "TargetFate",
    "TelegramSimulator",
    "UnknownAccountError",
    "WindowBreach",
    "canonical_key",
    "find_double_sends",
    "find_window_breaches",
    "target_fate",
]
