"""Every limit and tunable of imports in one place.

The two values operators may need to change are settings (``INVITE_IMPORT_MAX_UPLOAD_BYTES``,
``INVITE_PARSING_TOKEN_SECRET``); the rest are engineering constants.
"""

from __future__ import annotations

from invite_service.config import Settings

# How many rejected rows the job keeps inline; every one of them is in rejected.csv.
ERROR_SAMPLE_SIZE = 20
PREVIEW_ROWS = 5

# A running job touches its row this often; a row silent for ORPHAN_AFTER_SECONDS belongs to a
# process that died, and the sweep (a periodic job of the beat / the embedded ticker) runs it again,
# at most MAX_RUNS times in all.
HEARTBEAT_SECONDS = 5.0
ORPHAN_AFTER_SECONDS = 60.0
ORPHAN_SWEEP_SECONDS = 30.0
MAX_RUNS = 5

# Parsing Service client.
PARSING_PAGE_LIMIT = 1000
PARSING_TIMEOUT_SECONDS = 30.0
PARSING_MAX_ATTEMPTS = 6
PARSING_BACKOFF_BASE_SECONDS = 0.5
PARSING_BACKOFF_MAX_SECONDS = 8.0
PARSING_RETRY_AFTER_MAX_SECONDS = 60.0
PARSING_TOKEN_TTL_SECONDS = 60


def parsing_token_secret(settings: Settings) -> str:
    # Without a secret of its own, the Parsing Service shares the Integration Service's.
    return settings.parsing_token_secret or settings.integration_token_secret
