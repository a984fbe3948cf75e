"""String enums shared by models, schemas and services."""

from __future__ import annotations

from enum import StrEnum


class Platform(StrEnum):
    TELEGRAM = "telegram"
    SANDBOX = "sandbox"


class TaskAction(StrEnum):
    INVITE = "invite"
    MESSAGE = "message"
    INVITE_OR_MESSAGE = "invite_or_message"

    @property
    def invites(self) -> bool:
        return self is not TaskAction.MESSAGE

    @property
    def messages(self) -> bool:
        return self is not TaskAction.INVITE


class Step(StrEnum):
    """One platform call the engine makes for a target (an ``invite_or_message`` task may make both)."""

    INVITE = "invite"
    MESSAGE = "message"


class TaskStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return PRIORITY_RANK[self]


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2}


class TargetKind(StrEnum):
    USER_ID = "user_id"
    USERNAME = "username"
    PHONE = "phone"


class TargetStatus(StrEnum):
    PENDING = "pending"
    RESERVED = "reserved"
    SENDING = "sending"
    INVITED = "invited"
    MESSAGED = "messaged"
    ALREADY_MEMBER = "already_member"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"


FINAL_TARGET_STATUSES = frozenset(
    {
        TargetStatus.INVITED,
        TargetStatus.MESSAGED,
        TargetStatus.ALREADY_MEMBER,
        TargetStatus.FAILED,
        TargetStatus.SKIPPED,
    }
)


class LaneStatus(StrEnum):
    ACTIVE = "active"
    COOLING_DOWN = "cooling_down"
    RESTRICTED = "restricted"
    UNAVAILABLE = "unavailable"
    EXCLUDED = "excluded"


class SuppressionReason(StrEnum):
    OPT_OUT = "opt_out"
    BLOCKED_US = "blocked_us"
    MANUAL = "manual"
    COMPLAINT = "complaint"
    REPLY_OPT_OUT = "reply_opt_out"  # the person answered an opt-out keyword ("stop", "стоп", ...)


class ImportStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


def first_step(action: TaskAction) -> Step:
    """The call a task's targets need first (the fallback message of invite_or_message aside)."""
    return Step.MESSAGE if action is TaskAction.MESSAGE else Step.INVITE
