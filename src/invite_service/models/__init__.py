"""ORM models, one aggregate a file; importing this package registers every table."""

from invite_service.models.activity import (
    AuditEvent,
    ExecutionLog,
    IdempotencyKey,
    IntegrationEvent,
    RateLimitLedger,
)
from invite_service.models.audience import (
    ImportFile,
    ImportJob,
    ImportMapping,
    ImportRejection,
    Suppression,
)
from invite_service.models.base import Base
from invite_service.models.contact_policy import ContactMark, ContactPolicy
from invite_service.models.contacts import Audience, AudienceMember, Contact, ContactTag, TaskAudience
from invite_service.models.notifications import (
    NotificationChannel,
    NotificationDelivery,
    NotificationEvent,
    WebhookEndpoint,
)
from invite_service.models.target import InviteTarget, TaskCounters
from invite_service.models.task import InviteTask, Lane
from invite_service.models.task_stats import TaskStatsHour

__all__ = [
    "Audience",
    "AudienceMember",
    "AuditEvent",
    "Base",
    "Contact",
    "ContactMark",
    "ContactPolicy",
    "ContactTag",
    "ExecutionLog",
    "IdempotencyKey",
    "ImportFile",
    "ImportJob",
    "ImportMapping",
    "ImportRejection",
    "IntegrationEvent",
    "InviteTarget",
    "InviteTask",
    "Lane",
    "NotificationChannel",
    "NotificationDelivery",
    "NotificationEvent",
    "RateLimitLedger",
    "Suppression",
    "TaskAudience",
    "TaskCounters",
    "TaskStatsHour",
    "WebhookEndpoint",
]
