"""What the routers share in their OpenAPI declarations: bounded row ids, the 400 of an unreadable body."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path

from invite_service.errors import problem_responses
from invite_service.kit.inputs import INT64_MAX

# A row id in a path (targets, suppression entries: 64-bit BigId columns). A larger number is a 422 instead of
# an overflow in the database driver (a 500 on SQLite and PostgreSQL alike).
RowIdPath = Annotated[int, Path(ge=1, le=INT64_MAX)]

# FastAPI answers 400 ("There was an error parsing the body") when a body cannot be decoded at all: JSON that
# is not UTF-8, a malformed multipart form. Every operation that takes a body declares it.
UNREADABLE_BODY: dict[int | str, dict[str, Any]] = {
    400: {
        **problem_responses(400)[400],
        "description": "The body cannot be read (JSON that is not UTF-8, a malformed multipart form)",
    }
}
