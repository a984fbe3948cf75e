"""Every limit and tunable of imports in one place.

The two values operators may need to change are settings (``INVITE_IMPORT_MAX_UPLOAD_BYTES``,
``INVITE_PARSING_TOKEN_SECRET``); the rest are engineering constants.
"""

from __future__ import annotations

from invite_service.config import Settings

# Multipart framing and the small form fields ride on top of the file itself.
MULTIPART_OVERHEAD_BYTES = 1024 * 1024

# Rows a chunk: one staging write, one suppression query and one progress commit each.
CHUNK_ROWS = 10_000
# Bytes of text sniffed for the encoding, the delimiter and the header.
SNIFF_BYTES = 64 * 1024
# Rows (JSON: objects) sampled for the column list that validate shows and the mapping uses.
SAMPLE_ROWS = 1000
# How many rejected rows the job keeps inline; every one of them is in rejected.csv.
ERROR_SAMPLE_SIZE = 20
VALIDATE_ERROR_LIMIT = 50
PREVIEW_ROWS = 5

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

# A running job touches its row this often; a row silent for ORPHAN_AFTER_SECONDS belongs to a
# process that died, and the sweep marks it failed.
HEARTBEAT_SECONDS = 5.0
ORPHAN_AFTER_SECONDS = 60.0
ORPHAN_SWEEP_SECONDS = 30.0

# Parsing Service client.
PARSING_PAGE_LIMIT = 1000
PARSING_TIMEOUT_SECONDS = 30.0
PARSING_MAX_ATTEMPTS = 6
PARSING_BACKOFF_BASE_SECONDS = 0.5
PARSING_BACKOFF_MAX_SECONDS = 8.0
PARSING_RETRY_AFTER_MAX_SECONDS = 60.0
PARSING_TOKEN_TTL_SECONDS = 60


def max_upload_bytes(settings: Settings) -> int:
    return settings.import_max_upload_bytes


def parsing_token_secret(settings: Settings) -> str:
    # Without a secret of its own, the Parsing Service shares the Integration Service's.
    return settings.parsing_token_secret or settings.integration_token_secret
