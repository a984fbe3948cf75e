"""The windows and pacing a lane obeys: platform caps, lowered by the task's own caps."""

from __future__ import annotations

from typing import Any

from invite_service.config import PlatformCaps
from invite_service.limits.base import Window

HOUR, DAY = 3600, 86_400


def windows_for(platform_caps: PlatformCaps, task_settings: dict[str, Any], step: str) -> list[Window]:
    """Sliding windows for ``step`` ("invite" | "message") on one account.

    A task's caps lower the account's caps while this task uses it: the task acts only while
    the account's total use (by every task) is under the lower of the two.
    """
    task_caps = task_settings.get("caps") or {}
    windows = []
    for seconds, suffix in ((HOUR, "hour"), (DAY, "day")):
        name = f"{step}s_per_{suffix}"
        caps = [c for c in (getattr(platform_caps, name), task_caps.get(name)) if c is not None]
        if caps:
            windows.append(Window(seconds, int(min(caps))))
    return windows


def min_delay(platform_caps: PlatformCaps, task_settings: dict[str, Any]) -> float:
    """Seconds between two actions of one account; a task may only slow the platform's pace."""
    own = task_settings.get("min_delay_seconds")
    return max(platform_caps.min_delay_seconds, float(own) if own is not None else 0.0)
