"""Typed errors of imports: a bad file is a 4xx before any job starts; a failure later fails the job."""

from __future__ import annotations

from invite_service.errors import AppError, Conflict, NotFound


class ImportJobNotFound(NotFound):
    code, title = "import_job_not_found", "Import job not found"


class ImportFinished(Conflict):
    code, title = "import_finished", "Import already finished"


class RejectionsExpired(AppError):
    """The job's rejected rows were deleted by retention (``INVITE_RETENTION_IMPORT_REJECTION_DAYS``)."""

    status, code, title = 410, "import_rejections_expired", "Rejected rows no longer kept"


class ParsingError(Exception):
    """The Parsing Service could not deliver a task's results; the message is shown on the job."""


class ParsingTaskNotFound(ParsingError):
    pass


class ParsingUnavailable(ParsingError):
    """Retries are exhausted (connection errors, 5xx, 429)."""


class ParsingProtocolError(ParsingError):
    """A page that is not what the contract promises (invalid JSON, missing fields) or a refused call."""


class AudienceNotFound(NotFound):
    """The same answer as the audiences API's (``audiences/service.py``), which sits above imports."""

    code, title = "audience_not_found", "Audience not found"
