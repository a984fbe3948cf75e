"""The title and body of a channel notification: one English sentence or two per event type."""

from __future__ import annotations

from typing import Any

from invite_service.models.notifications import NotificationEventType as T


def describe(event_type: T, data: dict[str, Any]) -> tuple[str, str]:
    task = data.get("task_name") or data.get("task_id") or "a task"
    account = data.get("account_id", "an account")
    until = f" until {data['until']}" if data.get("until") else ""
    match event_type:
        case T.TASK_COMPLETED:
            return f"Task “{task}” completed", f"Your invite task “{task}” has processed all its targets."
        case T.TASK_PAUSED:
            reason = data.get("reason") or "no reason given"
            return f"Task “{task}” paused", f"Your invite task “{task}” was paused: {reason}."
        case T.TASK_FAILED:
            return (
                f"Task “{task}” failed",
                f"Your invite task “{task}” failed: {data.get('reason') or 'unknown'}.",
            )
        case T.ACCOUNT_RESTRICTED:
            return (
                f"Account {account} restricted",
                f"The {data.get('platform', '')} account {account} is restricted{until}; tasks go on with "
                "their other accounts.",
            )
        case T.ACCOUNT_UNAVAILABLE:
            return (
                f"Account {account} unavailable",
                f"The {data.get('platform', '')} account {account} is unavailable{until}; tasks go on with "
                "their other accounts.",
            )
        case T.IMPORT_COMPLETED:
            return "Import completed", f"An import finished: {data.get('accepted', 0)} targets were added."
        case T.IMPORT_FAILED:
            return "Import failed", f"An import failed: {data.get('error') or 'unknown error'}."
        case T.TEST:
            return "Test notification", "A test notification from the Invite Service."
        case T.ENDPOINT_DISABLED:
            return (
                "Notifications disabled",
                f"One of your notification targets was disabled: {data.get('reason')}.",
            )
    return str(event_type), str(data)
