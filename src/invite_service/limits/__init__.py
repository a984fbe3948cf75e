"""Per-account rate limits: the ``RateLimiter`` interface and its SQL and Redis backends.

``main.py`` picks the backend from ``INVITE_REDIS_URL`` (empty: ``SqlRateLimiter``; set:
``RedisRateLimiter`` plus ``rebuild_from_ledger`` at start-up); feature code only sees
``RateLimiter``.
"""

from invite_service.limits.base import (
    ACTIONS,
    REASON_RATE_LIMITED,
    REASON_UNAVAILABLE,
    Action,
    Decision,
    GrantNotCommitted,
    RateLimiter,
    Window,
    WindowUsage,
)
from invite_service.limits.redis import RedisRateLimiter
from invite_service.limits.sql import SqlRateLimiter

__all__ = [
    "ACTIONS",
    "REASON_RATE_LIMITED",
    "REASON_UNAVAILABLE",
    "Action",
    "Decision",
    "GrantNotCommitted",
    "RateLimiter",
    "RedisRateLimiter",
    "SqlRateLimiter",
    "Window",
    "WindowUsage",
]
