"""Typed errors of imports: a bad file is a 4xx before any job starts; a failure later fails the job."""

from __future__ import annotations

from invite_service.errors import AppError, Conflict, NotFound


class FileRejected(AppError):
    """The file cannot be imported at all; ``detail`` says why in words the user can act on."""

    status, code, title = 422, "file_rejected", "File rejected"


class EmptyFile(FileRejected):
    code, title = "empty_file", "The file is empty"


class UnrecognisedFile(FileRejected):
    status, code, title = 415, "unrecognised_file", "Unrecognised file"


class UnsafeFile(FileRejected):
    code, title = "unsafe_file", "Unsafe file"


class SheetNotFound(FileRejected):
    code, title = "sheet_not_found", "Sheet not found"


class NoIdentityColumn(FileRejected):
    code, title = "no_identity_column", "No identity column"


class FileUnreadable(FileRejected):
    """Malformed content; raised at probe time (a 4xx) or mid-stream (the job fails with it)."""

    code, title = "file_unreadable", "File unreadable"


class ImportJobNotFound(NotFound):
    code, title = "import_job_not_found", "Import job not found"


class ImportFinished(Conflict):
    code, title = "import_finished", "Import already finished"


class ParsingError(Exception):
    """The Parsing Service could not deliver a task's results; the message is shown on the job."""


class ParsingTaskNotFound(ParsingError):
    pass


class ParsingUnavailable(ParsingError):
    """Retries are exhausted (connection errors, 5xx, 429)."""


class ParsingProtocolError(ParsingError):
    """A page that is not what the contract promises (invalid JSON, missing fields) or a refused call."""
