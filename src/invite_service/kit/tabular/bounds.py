"""Bounds on what a tabular file may cost to read: sniffing, sampling, field sizes, XLSX archives."""

from __future__ import annotations

# Bytes of text sniffed for the encoding, the delimiter and the header.
SNIFF_BYTES = 64 * 1024
# Rows (JSON: objects) sampled for the column list that validate shows and the mapping uses.
SAMPLE_ROWS = 1000

# Multipart framing and the small form fields ride on top of the file itself.
MULTIPART_OVERHEAD_BYTES = 1024 * 1024

# Template fields a target may carry, and how long their values and the names may be
# (the same bounds as the targets API).
MAX_EXTRA_FIELDS = 50
MAX_FIELD_VALUE_CHARS = 1000
MAX_NAME_CHARS = 200
MAX_JSON_ITEM_BYTES = 1024 * 1024

# Columns a file may have, checked on the header (or a JSON sample's keys) before any per-column work.
# Real CRM exports run to a few hundred columns; a target keeps at most MAX_EXTRA_FIELDS of them anyway.
MAX_COLUMNS = 1000
# Characters of text the CSV header record may span: 1000 columns of 200-character names fit. A longer
# first record (a 5 MB line of commas) is refused before the csv module splits it into cells.
MAX_HEADER_CHARS = 256 * 1024
# Characters a CSV line may have: MAX_COLUMNS values of MAX_FIELD_VALUE_CHARS fit, twice over. The
# csv module would otherwise split a 50 MB line into millions of cells before any check could run.
MAX_LINE_CHARS = 2 * 1024 * 1024
# JSON nesting a row may have. Contact data nests a few levels; Python's json recurses per level and
# fails near 1000 (a RecursionError), so deeper items are refused as malformed.
MAX_JSON_DEPTH = 64

# XLSX is a ZIP: refuse archives that would inflate far beyond the upload (zip bombs)
# before openpyxl touches them. zipfile itself stops at each member's declared size.
XLSX_MAX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024
XLSX_MAX_MEMBER_RATIO = 100
XLSX_RATIO_CHECK_MIN_BYTES = 1024 * 1024
XLSX_MAX_MEMBERS = 10_000
# Parts openpyxl loads whole (shared strings, styles, the workbook, content types…) stay under this: a
# shared-strings part costs ~3 times its XML in memory, and 64 MiB holds ~2M distinct strings (a full-height
# sheet of unique usernames and names). Only worksheets, which are streamed, may be larger.
XLSX_MAX_PART_BYTES = 64 * 1024 * 1024
# A sheet with no <dimension> before its rows is parsed whole by openpyxl just to size it (an element
# kept per row): above this inflated size it is refused. Excel, LibreOffice and the common libraries
# write the dimension first.
XLSX_MAX_UNSIZED_SHEET_BYTES = 4 * 1024 * 1024
# openpyxl pads each row to its last cell, so a cell in column XFD makes a row 16,384 cells wide for a
# few bytes of XML. Reading stops past this many cells (padding included): 20M is more real cells than
# a 50 MiB upload holds (~4 compressed bytes a cell), and walks in well under a second padded.
XLSX_MAX_CELLS = 20_000_000
# Excel's own row limit; a row numbered beyond it is not from a spreadsheet (and openpyxl would yield
# every missing row before it).
XLSX_MAX_ROWS = 1_048_576

# Rows read a chunk: one staging write, one suppression query and one progress commit each.
CHUNK_ROWS = 10_000
# How many bad rows a validation lists before it stops listing.
VALIDATE_ERROR_LIMIT = 50
