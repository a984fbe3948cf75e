"""One ``Settings`` (pydantic-settings, prefix ``INVITE_``); ``get_settings`` applies the Vault overlay."""

from __future__ import annotations

import functools

from invite_service.config.settings import (
    DEFAULT_PLATFORM_CAPS,
    INTEGRATION_BACKOFF_MAX_SECONDS,
    PLACEHOLDER_SECRET,
    ConfigError,
    PlatformCaps,
    Profile,
    Settings,
)
from invite_service.config.vault import apply_vault_overlay

__all__ = [
    "DEFAULT_PLATFORM_CAPS",
    "INTEGRATION_BACKOFF_MAX_SECONDS",
    "PLACEHOLDER_SECRET",
    "ConfigError",
    "PlatformCaps",
    "Profile",
    "Settings",
    "get_settings",
]


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment with the Vault overlay applied (cached per process)."""
    return apply_vault_overlay(Settings()).ensure_startable()
