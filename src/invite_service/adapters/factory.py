"""Which adapter serves a platform: a registry by name, wired from settings (the URL decides, 12-factor).

- ``telegram``: the Integration Service when ``INVITE_INTEGRATION_URL`` is set, else the in-process
  simulator (so the embedded profile runs Telegram tasks end to end);
- ``sandbox``: always the in-process simulator, pushing back above ``platform_caps["sandbox"]``.

Feature code asks an ``AdapterRegistry`` for a platform and never looks at these settings itself.
"""

from __future__ import annotations

from collections.abc import Callable

from invite_service.adapters.base import InvitePlatformAdapter
from invite_service.adapters.sandbox import SandboxAdapter
from invite_service.adapters.telegram import TelegramAdapter
from invite_service.config import PlatformCaps, Settings
from invite_service.models.enums import Platform
from invite_service.sandbox.integration_state import demo_config
from invite_service.sandbox.model import AccountLimits
from invite_service.sandbox.simulator import TelegramSimulator

AdapterBuilder = Callable[[Settings], InvitePlatformAdapter]

# The embedded simulators' audience: fixed, so a demo behaves the same on every run.
EMBEDDED_SEED = 2026
# The simulator stamps a call when it arrives, our limiter when it reserves; arrivals can bunch up by a
# few milliseconds, so the simulator's spacing is a little looser than ours (its caps are exact).
SIMULATOR_SPACING_TOLERANCE = 0.8


class UnknownPlatformError(LookupError):
    """No adapter is registered under this platform name."""


def simulator_limits(caps: PlatformCaps) -> AccountLimits:
    """What a simulator tolerates for a platform: our hard caps, so it pushes back only if we breach them."""
    return AccountLimits(
        min_spacing_seconds=caps.min_delay_seconds * SIMULATOR_SPACING_TOLERANCE,
        invites_per_hour=caps.invites_per_hour,
        invites_per_day=caps.invites_per_day,
        messages_per_hour=caps.messages_per_hour,
        messages_per_day=caps.messages_per_day,
    )


_simulators: dict[str, TelegramSimulator] = {}


def embedded_simulator(platform: str, settings: Settings) -> TelegramSimulator:
    """The process-wide simulator for one platform's accounts, created on first use with that platform's
    caps (later settings do not change it). Every user's demo accounts live in it, ids unique per user."""
    simulator = _simulators.get(platform)
    if simulator is None:
        limits = simulator_limits(settings.caps_for(platform))
        simulator = _simulators[platform] = TelegramSimulator(demo_config(EMBEDDED_SEED, limits))
    return simulator


def reset_embedded_simulators() -> None:
    """Forget the process-wide simulators (tests; a restart does the same)."""
    _simulators.clear()


def _telegram(settings: Settings) -> InvitePlatformAdapter:
    if settings.integration_url:
        return TelegramAdapter.from_settings(settings)
    return SandboxAdapter(embedded_simulator(Platform.TELEGRAM.value, settings), platform=Platform.TELEGRAM)


def _sandbox(settings: Settings) -> InvitePlatformAdapter:
    return SandboxAdapter(embedded_simulator(Platform.SANDBOX.value, settings), platform=Platform.SANDBOX)


_BUILDERS: dict[str, AdapterBuilder] = {Platform.TELEGRAM.value: _telegram, Platform.SANDBOX.value: _sandbox}


def register_adapter(platform: str, builder: AdapterBuilder) -> None:
    """Add (or replace) the builder of one platform's adapter."""
    _BUILDERS[str(platform)] = builder


def registered_platforms() -> list[str]:
    return sorted(_BUILDERS)


def create_adapter(platform: str, settings: Settings) -> InvitePlatformAdapter:
    """A new adapter for ``platform``; the caller owns it (``aclose`` it). Prefer ``AdapterRegistry``."""
    try:
        builder = _BUILDERS[str(platform)]
    except KeyError:
        raise UnknownPlatformError(f"no adapter for platform {platform!r}") from None
    return builder(settings)


class AdapterRegistry:
    """The adapters of one process and event loop: built on first use, shared by every task, closed
    together. One per API process (lifespan) and one per worker process (``worker_process_init``)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._adapters: dict[str, InvitePlatformAdapter] = {}

    def get(self, platform: str) -> InvitePlatformAdapter:
        key = str(platform)
        adapter = self._adapters.get(key)
        if adapter is None:
            adapter = self._adapters[key] = create_adapter(key, self._settings)
        return adapter

    def provide(self, platform: str, adapter: InvitePlatformAdapter) -> None:
        """Use this adapter for ``platform`` (a simulator on a simulated clock, in tests and benchmarks)."""
        self._adapters[str(platform)] = adapter

    async def aclose(self) -> None:
        adapters, self._adapters = list(self._adapters.values()), {}
        for adapter in adapters:
            await adapter.aclose()


def build_registry(settings: Settings) -> AdapterRegistry:
    """The process's adapter registry (``runtime.build_runtime`` calls this)."""
    return AdapterRegistry(settings)
