"""The Integration Service client's own metrics: failed attempts by kind, and retries."""

from __future__ import annotations

from prometheus_client import Counter

OTHER = "other"
INTEGRATION_ERROR_KINDS = (
    "unreachable",
    "timeout",
    "connection_lost",
    "server_error",
    "throttled",
    "auth",
    "refused",
    "protocol",
)
INTEGRATION_ERRORS = Counter(
    "invite_integration_errors_total",
    "Failed attempts to call the Integration Service (platform refusals are not errors).",
    ["kind"],
)
INTEGRATION_RETRIES = Counter("invite_integration_retries_total", "Integration Service calls retried.")
# Every known series exists at zero, so ``rate()`` and ``increase()`` see the first event.
for _kind in INTEGRATION_ERROR_KINDS:
    INTEGRATION_ERRORS.labels(_kind)


def count_integration_error(kind: str) -> None:
    INTEGRATION_ERRORS.labels(kind if kind in INTEGRATION_ERROR_KINDS else OTHER).inc()


def count_integration_retry() -> None:
    INTEGRATION_RETRIES.inc()
