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

# XLSX is a ZIP: refuse archives that would inflate far beyond the upload (zip bombs)
# before openpyxl touches them. zipfile itself stops at each member's declared size.
XLSX_MAX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024
XLSX_MAX_MEMBER_RATIO = 100
XLSX_RATIO_CHECK_MIN_BYTES = 1024 * 1024
XLSX_MAX_MEMBERS = 10_000

# Rows read a chunk: one staging write, one suppression query and one progress commit each.
CHUNK_ROWS = 10_000
# How many bad rows a validation lists before it stops listing.
VALIDATE_ERROR_LIMIT = 50
