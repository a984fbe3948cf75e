"""The jobs of imports, by name (``workers/jobs.py`` maps each name to its function)."""

from __future__ import annotations

import uuid

from invite_service.context.jobs import Job

RUN_IMPORT = "imports.run"
SWEEP_IMPORTS = "imports.sweep"


def run_import_job(job_id: uuid.UUID, attempt: int) -> Job:
    """Run the job; ``attempt`` is its run counter when sent (a run started since makes this a no-op
    unless that run stopped beating)."""
    return Job(RUN_IMPORT, {"job_id": str(job_id), "attempt": attempt})
