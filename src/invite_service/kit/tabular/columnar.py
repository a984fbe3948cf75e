"""A CSV's plain lines a block at a time, as columns, for bulk normalizing (``bulk.py``, polars).

Most large files are plain: no quote anywhere, LF or CRLF line ends. A plain line splits on the
delimiter exactly as the csv module splits it (a record a line, a cell between two delimiters), so a
block of them can be split in bulk. Whatever is not plain (a quote, a lone CR, a line near the csv
module's field limit) is read by the csv module as before (``CsvReader.batches``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

# Characters read a block: a few tens of thousands of typical lines, one line's bound more at most.
BLOCK_CHARS = 1024 * 1024
RawRow = tuple[int, dict[str, Any]]


def plain_lines(text: str) -> list[str] | None:
    """``text``'s lines without their ends if it is plain (the csv module would read each line as one
    record of the cells between delimiters), else None."""
    if '"' in text:
        return None
    crs = text.count("\r")
    if crs:
        if crs != text.count("\r\n"):  # a lone CR ends a line for the csv module: not ours to split
            return None
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    # The csv module refuses a cell over its field limit: such a line is left to it, to say so.
    if lines and max(map(len, lines)) >= csv.field_size_limit():
        return None
    return lines


@dataclass
class ColumnBatch:
    """Plain lines of a CSV, numbered on from ``start``, and rows read by the csv module's rules
    (``first``: a headerless file's first row) that come before them."""

    columns: list[str]
    delimiter: str
    start: int
    lines: list[str]
    first: list[RawRow] = field(default_factory=list)
    # The reader's rule for cells right of the header (``readers._beyond_header``).
    beyond: Callable[[list[str], int], dict[str, Any]] | None = None

    def __len__(self) -> int:
        return len(self.lines) + len(self.first)

    def raw(self, index: int) -> dict[str, Any]:
        """Line ``index`` as ``CsvReader.rows`` gives it (cells right of the header left out)."""
        return dict(zip(self.columns, self.lines[index].split(self.delimiter), strict=False))

    def cells(self) -> tuple[pl.DataFrame, list[RawRow]]:
        """One text column per header column (null where a line ends before it) with ``row_no``,
        for the lines whose every cell lies under the header; the other lines (values right of it)
        as rows, with the reader's ``column_N`` cells or its rejection marker."""
        width = len(self.columns)
        lines = pl.Series("line", self.lines, dtype=pl.String)
        numbers = pl.int_range(self.start, self.start + len(self.lines), eager=True, dtype=pl.Int64)
        wide = (lines.str.count_matches(self.delimiter, literal=True) >= width).arg_true().to_list()
        rows = list(self.first)
        if wide:
            assert self.beyond is not None
            keep = []
            for index in wide:
                record = self.lines[index].split(self.delimiter)
                if extra := self.beyond(record, width):
                    rows.append((self.start + index, {**self.raw(index), **extra}))
                else:
                    keep.append(index)
            drop = sorted(set(wide) - set(keep))
            if drop:
                mask = pl.Series([True] * len(self.lines))
                mask = mask.scatter(drop, False)
                lines, numbers = lines.filter(mask), numbers.filter(mask)
        split = lines.str.split(self.delimiter)
        frame = pl.DataFrame(
            [numbers.alias("row_no")]
            + [split.list.get(j, null_on_oob=True).alias(f"c{j}") for j in range(width)]
        )
        return frame, rows

    def raw_rows(self) -> list[RawRow]:
        """Every row of the batch as ``CsvReader.rows`` gives it (for the per-row path)."""
        width = len(self.columns)
        out = list(self.first)
        for index, line in enumerate(self.lines):
            record = line.split(self.delimiter)
            if not any(record):
                continue
            row = dict(zip(self.columns, record, strict=False))
            if len(record) > width and self.beyond is not None and (extra := self.beyond(record, width)):
                row.update(extra)
            out.append((self.start + index, row))
        return out
