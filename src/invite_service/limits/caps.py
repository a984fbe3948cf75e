"""The windows and pacing a lane obeys: platform caps, lowered by the task's own caps."""

from __future__ import annotations

from invite_service.config import PlatformCaps
from invite_service.limits.base import Window
from invite_service.models.enums import Step
from invite_service.models.task_settings import TaskSettings

HOUR, DAY = 3600, 86_400


def windows_for(platform_caps: PlatformCaps, task_settings: TaskSettings, step: Step) -> list[Window]:
    """Sliding windows for ``step`` on one account.

    A task's caps lower the account's caps while this task uses it: the task acts only while
    the account's total use (by every task) is under the lower of the two.
    """
    windows = []
    for seconds, suffix in ((HOUR, "hour"), (DAY, "day")):
        name = f"{step}s_per_{suffix}"
        caps = [c for c in (getattr(platform_caps, name), getattr(task_settings.caps, name)) if c is not None]
        if caps:
            windows.append(Window(seconds, int(min(caps))))
    return windows


def min_delay(platform_caps: PlatformCaps, task_settings: TaskSettings) -> float:
    """Seconds between two actions of one account; a task may only slow the platform's pace."""
    return max(platform_caps.min_delay_seconds, task_settings.min_delay_seconds or 0.0)
