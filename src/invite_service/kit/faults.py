"""Fault points: named boundaries where a test can stop the engine as if its process died there.

The engine calls ``await faults.hit(Boundary.X, target_id=...)`` at each boundary of a send; in
production nothing is armed and a hit costs one dictionary lookup. A test arms a boundary with a hook:

- in the simulated-time harness (one process), the hook raises ``Crash``: nothing after the boundary
  runs and the open transaction rolls back, exactly what a SIGKILL leaves behind;
- in real worker processes, ``INVITE_FAULT_DIR`` names a folder; a file ``<boundary>`` in it arms that
  boundary once: the first process to claim the file (an atomic rename) exits on the spot.

Races are then driven deterministically (this boundary, this target) instead of by a lucky kill.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

Hook = Callable[[dict[str, Any]], Awaitable[None]]
EXIT_CODE = 137  # what a SIGKILL'd process reports


class Boundary(StrEnum):
    """Where work can be interrupted: a send's boundaries in the order it passes them (``SEND``), then
    the others."""

    AFTER_MARK_SENDING = "after_mark_sending"  # "sending" and the ledger row committed, nothing sent
    AFTER_CALL = "after_call"  # the platform answered; nothing recorded
    BEFORE_RECORD_COMMIT = "before_record_commit"  # the outcome written, not committed
    AFTER_RETENTION_BATCH = "after_retention_batch"  # one retention batch deleted and committed


# The boundaries a send passes, in order (the "never twice" tests crash at each).
SEND = (Boundary.AFTER_MARK_SENDING, Boundary.AFTER_CALL, Boundary.BEFORE_RECORD_COMMIT)


class Crash(BaseException):
    """A simulated process death: a BaseException, so no ``except Exception`` handler swallows it."""


class FaultPoints:
    def __init__(self, fault_dir: str | None = None) -> None:
        self._hooks: dict[Boundary, Hook] = {}
        self._dir = Path(fault_dir) if fault_dir else None

    def arm(self, boundary: Boundary, hook: Hook) -> None:
        self._hooks[boundary] = hook

    def disarm(self) -> None:
        self._hooks.clear()

    async def hit(self, boundary: Boundary, **context: Any) -> None:
        hook = self._hooks.get(boundary)
        if hook is not None:
            await hook({"boundary": boundary, **context})
        if self._dir is not None and self._claim(boundary):
            os._exit(EXIT_CODE)  # die here, with no cleanup at all

    def _claim(self, boundary: Boundary) -> bool:
        assert self._dir is not None
        armed = self._dir / boundary.value
        try:
            armed.rename(self._dir / f"{boundary.value}.fired.{os.getpid()}")
        except FileNotFoundError:
            return False
        return True


async def crash(_context: dict[str, Any]) -> None:
    """A hook that dies at its boundary (in one process: raises ``Crash``)."""
    raise Crash


def once(hook: Hook) -> Hook:
    """``hook`` for its first hit only (later hits pass through)."""
    fired = False

    async def run(context: dict[str, Any]) -> None:
        nonlocal fired
        if not fired:
            fired = True
            await hook(context)

    return run
