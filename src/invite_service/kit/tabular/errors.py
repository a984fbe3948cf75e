"""Why a file cannot be read: a 4xx before any job starts, or the reason a running job fails."""

from __future__ import annotations

from invite_service.errors import AppError


class FileRejected(AppError):
    """The file cannot be imported at all; ``detail`` says why in words the user can act on."""

    status, code, title = 422, "file_rejected", "File rejected"


class EmptyFile(FileRejected):
    code, title = "empty_file", "The file is empty"


class UnrecognisedFile(FileRejected):
    status, code, title = 415, "unrecognised_file", "Unrecognised file"


class UnsafeFile(FileRejected):
    code, title = "unsafe_file", "Unsafe file"


class TooManyColumns(FileRejected):
    code, title = "too_many_columns", "Too many columns"


class TooManyCells(FileRejected):
    """The sheet is larger than a file is allowed to cost to read."""

    code, title = "too_many_cells", "Too many cells"


class SheetNotFound(FileRejected):
    code, title = "sheet_not_found", "Sheet not found"


class NoIdentityColumn(FileRejected):
    code, title = "no_identity_column", "No identity column"


class FileUnreadable(FileRejected):
    """Malformed content; raised at probe time (a 4xx) or mid-stream (the job fails with it)."""

    code, title = "file_unreadable", "File unreadable"
