"""The retention job, by name (``workers/jobs.py`` maps it to ``retention.policy.sweep``)."""

from __future__ import annotations

SWEEP_RETENTION = "retention.sweep"
