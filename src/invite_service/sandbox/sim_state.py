"""The simulator's mutable per-account state and injected faults (``simulator.py`` holds the rules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from invite_service.sandbox.model import Action, SimAccount


class NowSource(Protocol):
    def now(self) -> datetime: ...


class UnknownAccountError(LookupError):
    """The account was never added: a wiring bug in the caller, not a platform answer."""


@dataclass
class InjectedFault:
    name: str
    seconds: int | None
    remaining: int
    account_id: str | None
    code: int | None = None


@dataclass
class AccountState:
    account: SimAccount
    session_revoked: bool = False
    restricted_until: datetime | None = None
    flood_wait_until: datetime | None = None
    flood_violations: int = 0
    last_call_at: datetime | None = None
    # Every call that reached the platform, per action, for the sliding-window caps.
    calls: dict[Action, list[datetime]] = field(default_factory=lambda: {"invite": [], "message": []})
