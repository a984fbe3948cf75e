"""JSON: an array of objects (parsed item by item, never whole) or NDJSON (one object a line).

A scalar item (``"@alice"``, ``"+7912…"``, ``12345``) is a row with one ``identity`` column, so a plain
list of contacts imports too. A malformed NDJSON line is a rejected row; a malformed array is a
broken file and fails the import.
"""

from __future__ import annotations

import codecs
import itertools
import json
from collections.abc import Iterator
from typing import IO, Any

from invite_service.kit.tabular import bounds
from invite_service.kit.tabular.errors import FileUnreadable, TooManyColumns
from invite_service.kit.tabular.readers import ROW_ERROR, FileInfo, RawRow

IDENTITY_COLUMN = "identity"
_WHITESPACE = " \t\r\n"
_decoder = json.JSONDecoder()


class MalformedItem(Exception):
    """An NDJSON line that is not JSON: reported for its row, the import goes on."""


def _nested_deeper(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists/objects more than ``limit`` deep (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack += [(c, depth + 1) for c in children if isinstance(c, dict | list)]
    return False


def checked_depth(value: Any, brackets: int) -> Any:
    """``value``, or a MalformedItem when it nests past ``MAX_JSON_DEPTH`` (later steps recurse per
    level). ``brackets`` counts the item's ``[`` and ``{`` (a C-speed count): the walk runs only when
    the count could reach the bound."""
    deep = brackets > bounds.MAX_JSON_DEPTH and isinstance(value, dict | list)
    if deep and _nested_deeper(value, bounds.MAX_JSON_DEPTH):
        return MalformedItem(f"nested more than {bounds.MAX_JSON_DEPTH} levels deep")
    return value


def as_row(item: Any) -> dict[str, Any]:
    if isinstance(item, MalformedItem):
        raise item
    if isinstance(item, dict):
        if len(item) > bounds.MAX_COLUMNS:
            raise MalformedItem(f"{len(item)} keys; at most {bounds.MAX_COLUMNS} are read")
        return item
    if isinstance(item, str | int | float) and not isinstance(item, bool):
        return {IDENTITY_COLUMN: item}
    raise MalformedItem(f"expected an object or a contact, got {type(item).__name__}")


class JsonReader:
    def __init__(self, stream: IO[bytes], head: bytes, *, ndjson: bool) -> None:
        self._stream = stream
        self._ndjson = ndjson
        stream.seek(3 if head.startswith(codecs.BOM_UTF8) else 0)
        self._decode = codecs.getincrementaldecoder("utf-8")(errors="strict")
        self._items = self._ndjson_items() if ndjson else self._array_items()
        # Look ahead for the column list (the union of the first objects' keys), then replay.
        self._sample = list(itertools.islice(self._items, bounds.SAMPLE_ROWS))
        columns: dict[str, None] = {}
        for _number, item in self._sample:
            if isinstance(item, dict):
                columns.update(dict.fromkeys(str(k).replace("\x00", "\ufffd") for k in item))
                if len(columns) > bounds.MAX_COLUMNS:
                    raise TooManyColumns(
                        f"The first {len(self._sample)} items have more than {bounds.MAX_COLUMNS} "
                        f"different keys; at most {bounds.MAX_COLUMNS} columns are read."
                    )
            elif not isinstance(item, MalformedItem):
                columns[IDENTITY_COLUMN] = None
        self.info = FileInfo(format="ndjson" if ndjson else "json", encoding="utf-8", columns=list(columns))
        self.header_cells: list[Any] = []

    def set_headerless(self) -> None:
        """JSON keys are always names; nothing to do."""

    def _chunks(self) -> Iterator[str]:
        while block := self._stream.read(256 * 1024):
            try:
                yield self._decode.decode(block)
            except UnicodeDecodeError as exc:
                raise FileUnreadable("The JSON file is not valid UTF-8.") from exc

    def _ndjson_items(self) -> Iterator[tuple[int, Any]]:
        limit = bounds.MAX_JSON_ITEM_BYTES
        text = io_lines(self._chunks(), limit)
        for number, line in enumerate(text, start=1):
            if line is None or len(line) > limit:
                yield number, MalformedItem(f"line {number} is longer than {limit:,} characters")
                continue
            if not line.strip():
                continue
            try:
                value = checked_depth(json.loads(line), line.count("[") + line.count("{"))
                yield number, as_row(value)
            except RecursionError:
                deep = f"nested more than {bounds.MAX_JSON_DEPTH} levels deep"
                yield number, MalformedItem(f"line {number} is not a JSON object: {deep}")
            except (ValueError, MalformedItem) as exc:
                yield number, MalformedItem(f"line {number} is not a JSON object: {str(exc)[:120]}")

    def _array_items(self) -> Iterator[tuple[int, Any]]:
        for number, item in _ArrayScanner(self._chunks()).items():
            try:
                yield number, as_row(item)
            except MalformedItem as exc:
                yield number, MalformedItem(f"item {number}: {exc}")

    def rows(self) -> Iterator[RawRow]:
        for number, item in itertools.chain(self._sample, self._items):
            if isinstance(item, MalformedItem):
                yield number, {ROW_ERROR: ("malformed_row", str(item))}
            else:
                yield number, item

    def bytes_read(self) -> int:
        return self._stream.tell()


def io_lines(chunks: Iterator[str], limit: int) -> Iterator[str | None]:
    """The lines of the text; ``None`` for a line over ``limit`` characters, which is skipped, not held."""
    rest = ""
    skipping = False  # inside a line already reported too long
    for chunk in chunks:
        if skipping:
            cut = chunk.find("\n")
            if cut < 0:
                continue
            chunk, skipping = chunk[cut + 1 :], False
            yield None
        lines = (rest + chunk).split("\n")
        rest = lines.pop()
        yield from lines
        if len(rest) > limit:
            rest, skipping = "", True
    if skipping:
        yield None
    elif rest:
        yield rest


class _ArrayScanner:
    """Yields the items of a top-level JSON array from text chunks, holding one item at a time."""

    def __init__(self, chunks: Iterator[str]) -> None:
        self._chunks = chunks
        self._buf = ""
        self._pos = 0
        self._eof = False

    def _more(self) -> bool:
        chunk = next(self._chunks, None)
        if chunk is None:
            self._eof = True
            return False
        self._buf, self._pos = self._buf[self._pos :] + chunk, 0
        return True

    def _peek(self) -> str:
        """The next non-blank character ("" at the end), consuming the blanks before it."""
        while True:
            buf, pos = self._buf, self._pos
            while pos < len(buf) and buf[pos] in _WHITESPACE:
                pos += 1
            self._pos = pos
            if pos < len(buf):
                return buf[pos]
            if not self._more():
                return ""

    def _value(self, number: int) -> Any:
        while True:
            try:
                value, end = _decoder.raw_decode(self._buf, self._pos)
            except RecursionError as exc:
                raise FileUnreadable(
                    f"The JSON nests item {number} more than {bounds.MAX_JSON_DEPTH} levels deep."
                ) from exc
            except json.JSONDecodeError as exc:
                if self._eof and exc.pos >= len(self._buf) - 1:
                    raise FileUnreadable(f"The JSON file ends in the middle of item {number}.") from exc
                if self._eof or len(self._buf) - self._pos > bounds.MAX_JSON_ITEM_BYTES:
                    raise FileUnreadable(f"The JSON is malformed in item {number}: {exc.msg}.") from exc
                self._more()
                continue
            # A number at the very end of the buffer may go on in the next chunk.
            if end == len(self._buf) and not self._eof and self._more():
                continue
            brackets = self._buf.count("[", self._pos, end) + self._buf.count("{", self._pos, end)
            self._pos = end
            return checked_depth(value, brackets)

    def items(self) -> Iterator[tuple[int, Any]]:
        if self._peek() != "[":
            raise FileUnreadable("The JSON is not an array of objects.")
        self._pos += 1
        number = 0
        while True:
            ch = self._peek()
            if ch == "]":
                self._pos += 1
                if self._peek():
                    raise FileUnreadable(f"The JSON has more text after the array (after item {number}).")
                return
            if not ch:
                raise FileUnreadable(f"The JSON array ends early, after item {number}.")
            if number:
                if ch != ",":
                    raise FileUnreadable(f"The JSON is malformed after item {number}: expected ',' or ']'.")
                self._pos += 1
                if self._peek() in ("]", ""):
                    raise FileUnreadable(f"The JSON is malformed after item {number}: a trailing comma.")
            number += 1
            yield number, self._value(number)
