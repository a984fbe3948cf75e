"""Operation keys: one per (task, target, step, lineage), the same on every try of that step.

The key is the Idempotency-Key of the step's Integration Service call — on the first try, on HTTP
retries, and on any try after a crash or recovery — so the service can recognise a repeat and the
platform acts at most once. ``lineage`` advances only when the platform provably did not act (it
answered with a refusal or a wait), so a later retry is a new operation with a new key.
"""

from __future__ import annotations

import uuid

# Fixed forever: changing it would give in-flight steps new keys.
_NAMESPACE = uuid.UUID("5f0c3b1e-7f0a-4d0e-9a53-2f6a1c8e4b10")


def operation_key(task_id: uuid.UUID, target_id: int, step: str, lineage: int) -> str:
    return uuid.uuid5(_NAMESPACE, f"{task_id}/{target_id}/{step}/{lineage}").hex
