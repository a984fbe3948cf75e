"""Which adapter serves a platform: a registry by platform name, filled by the composition root.

Feature code asks an ``AdapterRegistry`` for a platform and never looks at settings itself; which
implementation serves a platform (the Integration Service over HTTP, or the in-process simulator) is
decided once, in ``runtime.build_adapters``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from invite_service.adapters.base import InvitePlatformAdapter

AdapterBuilder = Callable[[], InvitePlatformAdapter]


class UnknownPlatformError(LookupError):
    """No adapter is registered under this platform name."""


class AdapterRegistry:
    """The adapters of one process and event loop: built on first use, shared by every task, closed
    together. One per API process (lifespan) and one per worker process."""

    def __init__(self, builders: Mapping[str, AdapterBuilder] | None = None) -> None:
        self._builders = dict(builders or {})
        self._adapters: dict[str, InvitePlatformAdapter] = {}

    def get(self, platform: str) -> InvitePlatformAdapter:
        key = str(platform)
        adapter = self._adapters.get(key)
        if adapter is None:
            try:
                builder = self._builders[key]
            except KeyError:
                raise UnknownPlatformError(f"no adapter for platform {platform!r}") from None
            adapter = self._adapters[key] = builder()
        return adapter

    def provide(self, platform: str, adapter: InvitePlatformAdapter) -> None:
        """Use this adapter for ``platform`` (a simulator on a simulated clock, in tests and benchmarks)."""
        self._adapters[str(platform)] = adapter

    async def aclose(self) -> None:
        adapters, self._adapters = list(self._adapters.values()), {}
        for adapter in adapters:
            await adapter.aclose()
