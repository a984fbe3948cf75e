"""Standard Webhooks (https://www.standardwebhooks.com, spec v1): secrets, the body and the headers."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime
from typing import Any

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the spec's prefix, not a secret


def new_secret() -> str:
    """A random 24-byte secret in the spec's ``whsec_<base64>`` form."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def body(event_type: str, created_at: datetime, data: dict[str, Any]) -> str:
    """The spec's payload structure: ``{type, timestamp, data}``."""
    payload = {"type": event_type, "timestamp": created_at.isoformat().replace("+00:00", "Z"), "data": data}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def headers(secret: str, msg_id: str, sent_at: datetime, payload: str) -> dict[str, str]:
    """The three headers. ``msg_id`` is the event id, the same on every attempt and redelivery, so a
    receiver dedupes by it; ``sent_at`` is the wall clock of this attempt (receivers reject timestamps
    more than ~5 minutes off theirs, to refuse replays)."""
    signature = Webhook(secret).sign(msg_id, sent_at, payload)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }
