"""A user's contact policy (how often one person may be contacted, whether consent is required) and the
send-time marks that enforce it (one row a person and channel: the lock a send claims)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, String, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column

from invite_service.models.base import Base, TimestampMixin, UTCDateTime

DEFAULT_MESSAGE_COOLDOWN_DAYS = 7


class ContactPolicy(TimestampMixin, Base):
    """No row: the defaults (messages 7 days apart, never re-invited to the same chat, no consent needed)."""

    __tablename__ = "contact_policies"

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    # 0: no cap.
    message_cooldown_days: Mapped[int] = mapped_column(
        Integer, nullable=False, default=DEFAULT_MESSAGE_COOLDOWN_DAYS, server_default="7"
    )
    # NULL: never invite a person to the same chat twice; 0: no cap.
    invite_cooldown_days: Mapped[int | None] = mapped_column(Integer)
    require_consent: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )


class ContactMark(Base):
    """When a person was last contacted on a channel ('message' or 'invite:<destination>').

    A send claims its row with one conditional upsert in the transaction that takes the limiter slot,
    so two tasks cannot both pass the cooldown check (docs/architecture.md "Contact policy").
    """

    __tablename__ = "contact_marks"

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(200), primary_key=True)
    # '<kind>:<key>' of the target.
    person: Mapped[str] = mapped_column(String(80), primary_key=True)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # The claim before this one: restored when the platform provably did not reach the person.
    previous_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    task_id: Mapped[uuid.UUID] = mapped_column(Uuid(), nullable=False)
    target_id: Mapped[int] = mapped_column(BigInteger, nullable=False)


def strength(days: int | None) -> float:
    """How strict a cooldown is: 0 (no cap) < 1 day < ... < None (never again)."""
    return float("inf") if days is None else float(days)


@dataclass(frozen=True)
class EffectivePolicy:
    """The rules one send obeys: the user's policy, tightened by the task's override."""

    message_cooldown_days: int = DEFAULT_MESSAGE_COOLDOWN_DAYS
    invite_cooldown_days: int | None = None
    require_consent: bool = False

    @classmethod
    def of(cls, row: ContactPolicy | None) -> EffectivePolicy:
        if row is None:
            return cls()
        return cls(row.message_cooldown_days, row.invite_cooldown_days, row.require_consent)

    def tightened(
        self, message_days: int | None, invite_days: int | None, require_consent: bool | None
    ) -> EffectivePolicy:
        """The stricter of each rule (an override looser than the user's policy, e.g. one saved before the
        user tightened it, never loosens it). ``None``: not overridden."""
        message = self.message_cooldown_days
        if message_days is not None and strength(message_days) > strength(message):
            message = message_days
        invite = self.invite_cooldown_days
        if invite_days is not None and strength(invite_days) > strength(invite):
            invite = invite_days
        return EffectivePolicy(message, invite, self.require_consent or bool(require_consent))

    def cooldown_days(self, invites: bool) -> int | None:
        """The cooldown of a channel in days: 0 = no cap, None = never again."""
        return self.invite_cooldown_days if invites else self.message_cooldown_days
