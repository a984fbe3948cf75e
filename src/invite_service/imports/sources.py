"""Where an import job's rows come from: an uploaded file or a Parsing Service task, read in chunks."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import IO, Any, Protocol

from invite_service.imports import file_limits as limits
from invite_service.imports.parsing_client import ParsedUser, ParsingResults
from invite_service.kit.tabular import bounds
from invite_service.kit.tabular.columnar import ColumnBatch
from invite_service.kit.tabular.mapping import RowPlan, build_plan
from invite_service.kit.tabular.open import open_reader
from invite_service.kit.tabular.readers import ROW_ERROR, CsvReader, RawRow, Reader

PARSING_COLUMNS = ["user_id", "username", "first_name", "last_name", "phone", "is_bot", "is_deleted"]
PARSING_PLAN_FIELDS = {c: c for c in ("user_id", "username", "first_name", "last_name", "phone")}


class RowSource(Protocol):
    plan: RowPlan

    def chunks(self) -> AsyncIterator[Iterable[RawRow] | ColumnBatch]:
        """The rows, a chunk at a time; a chunk may be read only as it is iterated (off the event
        loop), and is iterated to its end before the next is asked for."""
        ...

    def bytes_read(self) -> int | None: ...

    def rows_total(self) -> int | None: ...

    def columns(self) -> list[str]: ...

    async def aclose(self) -> None: ...


def probe(
    stream: IO[bytes], sheet: str | None, mapping: Mapping[str, str | None] | None
) -> tuple[Reader, RowPlan]:
    """The file's reader (positioned before its first data row) and its plan. Reading a header and
    mapping up to MAX_COLUMNS columns is CPU work: callers run this off the event loop, with no
    database connection checked out."""
    reader = open_reader(stream, sheet=sheet)
    return reader, build_plan(reader, mapping, purpose="targets")


def _take(rows: Iterator[RawRow], n: int) -> list[RawRow]:
    return list(itertools.islice(rows, n))


class _Rows:
    """Up to ``n`` rows of a reader, read as they are iterated.

    The worker thread that normalizes a chunk reads it too, a row at a time: each row is normalized
    while fresh, and no list keeps a chunk's row tuples alive for the garbage collector to walk
    again and again (a quarter less CPU for a CSV, a sixth for NDJSON, than reading a chunk whole,
    then normalizing it).
    """

    def __init__(self, rows: Iterator[RawRow], n: int) -> None:
        self._rows = rows
        self._n = n
        self.count = 0

    def __iter__(self) -> Iterator[RawRow]:
        for row in itertools.islice(self._rows, self._n):
            self.count += 1
            yield row


class FileSource:
    """A probed reader over the spooled upload, read a chunk at a time by whoever iterates it."""

    def __init__(self, reader: Reader, plan: RowPlan, stream: IO[bytes]) -> None:
        self.reader = reader
        self.plan = plan
        self._stream = stream
        self._stopped = False
        self._rows = self._until_stopped(reader.rows())

    def _until_stopped(self, rows: Iterator[RawRow]) -> Iterator[RawRow]:
        # A worker thread reading a chunk cannot be cancelled: it checks this flag (set by ``aclose``
        # when the job is cancelled or fails) between rows and stops instead of reading on.
        for row in rows:
            if self._stopped:
                return
            yield row

    async def chunks(self) -> AsyncIterator[Iterable[RawRow] | ColumnBatch]:
        if isinstance(self.reader, CsvReader):
            # Plain lines come as column batches, normalized in bulk (``imports/vector``).
            batches = self.reader.batches(bounds.CHUNK_ROWS)
            while not self._stopped and (batch := await asyncio.to_thread(next, batches, None)) is not None:
                yield batch
            return
        if self.reader.info.format == "xlsx":
            # Not for openpyxl: its parsing and normalizing, interleaved a row at a time, run a fifth
            # slower (each evicts the other's working set). A chunk is read whole, off the loop.
            while whole := await asyncio.to_thread(_take, self._rows, bounds.CHUNK_ROWS):
                yield whole
            return
        while True:
            rows = _Rows(self._rows, bounds.CHUNK_ROWS)
            yield rows
            if rows.count < bounds.CHUNK_ROWS:  # the reader ran dry (the last chunk may be empty)
                return

    def bytes_read(self) -> int | None:
        return self.reader.bytes_read() or None

    def rows_total(self) -> int | None:
        return self.reader.info.rows_estimate

    def columns(self) -> list[str]:
        # JSON keys first met after the sample join the report's columns.
        seen = dict.fromkeys(self.reader.info.columns)
        seen.update(dict.fromkeys(self.plan.fields))
        return list(seen)

    async def aclose(self) -> None:
        self._stopped = True
        self._stream.close()


def user_row(user: ParsedUser) -> dict[str, Any]:
    row: dict[str, Any] = user.model_dump()
    # Bots and deleted accounts are left out: rejected with their reason, so the report explains them.
    if user.is_bot:
        row[ROW_ERROR] = ("bot", "bots are left out")
    elif user.is_deleted:
        row[ROW_ERROR] = ("deleted_account", "deleted accounts are left out")
    row.pop("is_bot")
    row.pop("is_deleted")
    return row


class ParsingSource:
    def __init__(self, client: ParsingResults, parsing_task_id: str) -> None:
        self.plan = RowPlan(fields=dict(PARSING_PLAN_FIELDS), purpose="targets")
        self._client = client
        self._task = parsing_task_id
        self._total: int | None = None

    async def chunks(self) -> AsyncIterator[list[RawRow]]:
        cursor: str | None = None
        number = 0
        while True:
            page = await self._client.page(self._task, cursor, limits.PARSING_PAGE_LIMIT)
            self._total = page.total if page.total is not None else self._total
            rows = []
            for user in page.items:
                number += 1
                rows.append((number, user_row(user)))
            if rows:
                yield rows
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def bytes_read(self) -> int | None:
        return None

    def rows_total(self) -> int | None:
        return self._total

    def columns(self) -> list[str]:
        return list(PARSING_COLUMNS)

    async def aclose(self) -> None:
        await self._client.aclose()
