"""When a step's fate is in doubt, decide only from proof; never send a person anything twice.

A step is in doubt when its call got no usable answer (timeout, dropped connection, 5xx) or when its
target sat in ``sending`` past the lease (the worker died, or its answer was lost). Both paths ask the
same questions in the same order and follow one table:

1. the Integration Service's outcome lookup for the step's operation key (``GET /v1/operations/{key}``),
   which records a key durably before it calls the platform;
2. for an invite only, and only when the lookup cannot prove anything, a membership check — a secondary
   signal: "is a member" confirms the invite; "is not a member" proves nothing (a privacy refusal, a
   pending join request and a person who left all look the same), so it never leads to a send.

| lookup answer               | membership (invite) | verdict   | the target                           |
|-----------------------------|---------------------|-----------|--------------------------------------|
| completed, platform answered | not asked          | RECORD    | the stored answer, recorded as live  |
| completed, answer uncertain | member              | CONFIRMED | invited                              |
| completed, answer uncertain | not / cannot tell   | UNKNOWN   | unknown (the user decides)           |
| in_progress                 | not asked           | WAIT      | stays sending, looked at again later |
| unknown_key (never asked)   | not asked           | RETRY     | pending with the SAME key            |
| cannot tell (service down)  | member              | CONFIRMED | invited                              |
| cannot tell (service down)  | not / cannot tell   | WAIT      | live: stays sending for recovery     |
|                             |                     | UNKNOWN   | in recovery (it has the last word)   |

A message has no membership check: its rows read "not / cannot tell". UNKNOWN is never re-sent without
the user's explicit bulk action (which starts a new lineage).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import structlog

from invite_service.adapters.base import (
    InvitePlatformAdapter,
    InviteResult,
    OperationLookup,
    OperationState,
    Outcome,
)
from invite_service.context.runtime import Runtime
from invite_service.execution.outcomes import StepOutcome, record
from invite_service.execution.policy import step_for
from invite_service.execution.refs import target_ref
from invite_service.models import InviteTarget, InviteTask
from invite_service.models.enums import Step, TargetStatus
from invite_service.stores import in_flight
from invite_service.stores import tasks as task_store

log = structlog.get_logger(__name__)
RECOVER_LOCK_TTL = 300


class Verdict(StrEnum):
    RECORD = "record"
    CONFIRMED = "confirmed"
    WAIT = "wait"
    RETRY = "retry"
    UNKNOWN = "unknown"


def verdict(lookup: OperationLookup | None, member: bool | None, *, last_word: bool) -> Verdict:
    """The table above. ``last_word``: recovery decides now (no one looks again unless it waits)."""
    if lookup is not None:
        if lookup.state is OperationState.IN_PROGRESS:
            return Verdict.WAIT
        if lookup.state is OperationState.UNKNOWN_KEY:
            return Verdict.RETRY
        if lookup.result is not None and not lookup.result.delivery_uncertain:
            return Verdict.RECORD
        return Verdict.CONFIRMED if member is True else Verdict.UNKNOWN
    if member is True:
        return Verdict.CONFIRMED
    return Verdict.UNKNOWN if last_word else Verdict.WAIT


def needs_membership(lookup: OperationLookup | None) -> bool:
    """Only when the lookup proves nothing is the membership check worth asking."""
    if lookup is None:
        return True
    uncertain = lookup.result is not None and lookup.result.delivery_uncertain
    return lookup.state is OperationState.COMPLETED and uncertain


@dataclass(frozen=True)
class Resolution:
    verdict: Verdict
    result: InviteResult | None = None  # what to record for RECORD and CONFIRMED

    @property
    def via(self) -> str:
        return {
            Verdict.RECORD: "outcome lookup",
            Verdict.CONFIRMED: "confirmed by a membership check",
            Verdict.RETRY: "the platform was never asked (outcome lookup)",
            Verdict.UNKNOWN: "no proof of what the platform did",
            Verdict.WAIT: "the call is still running",
        }[self.verdict]


CONFIRMED_RESULT = InviteResult(Outcome.SUCCESS, detail="confirmed by a membership check")
# What recovery records for a step the platform was never asked: a retry with the same key.
NEVER_ASKED = InviteResult(
    Outcome.TRANSIENT,
    error_code="DELIVERY_UNCONFIRMED",
    detail="no answer; never reached the platform",
    delivery_uncertain=True,
)
NO_PROOF = InviteResult(
    Outcome.TRANSIENT,
    error_code="DELIVERY_UNKNOWN",
    detail="no proof of what the platform did",
    delivery_uncertain=True,
)


async def resolve(
    adapter: InvitePlatformAdapter,
    task: InviteTask,
    target: InviteTarget,
    account_id: str | None,
    step: Step,
    key: str | None,
    *,
    last_word: bool,
) -> Resolution:
    """Ask the platform side what became of ``key`` and apply the table (no key: a row sent before
    operation keys existed, which no lookup can know)."""
    ref = target_ref(target)
    lookup = None
    if key is not None and adapter.supports_operation_lookup:
        lookup = await adapter.lookup_operation(key, ref)
    member = None
    if needs_membership(lookup) and step is Step.INVITE and adapter.supports_membership_check and account_id:
        member = await adapter.check_membership(account_id, task.destination or "", ref)
    found = verdict(lookup, member, last_word=last_word)
    if found is Verdict.RECORD:
        assert lookup is not None and lookup.result is not None
        return Resolution(found, lookup.result)
    if found is Verdict.CONFIRMED:
        return Resolution(found, CONFIRMED_RESULT)
    return Resolution(found)


async def apply(
    rt: Runtime,
    task: InviteTask,
    target: InviteTarget,
    account_id: str,
    step: Step,
    key: str | None,
    resolution: Resolution,
    *,
    answer: InviteResult | None = None,
    expired_at: datetime | None = None,
) -> bool:
    """Write a resolution (everything but WAIT) through the one fenced ``record``; True if it moved."""
    if resolution.verdict is Verdict.WAIT:
        return False
    if resolution.verdict is Verdict.RETRY:
        result, unknown = answer or NEVER_ASKED, False
    elif resolution.verdict is Verdict.UNKNOWN:
        result, unknown = answer or NO_PROOF, True
    else:
        assert resolution.result is not None
        result, unknown = resolution.result, False
    outcome = StepOutcome(
        account_id, step, key, result, unknown=unknown, expired_at=expired_at, via=resolution.via
    )
    effect = await record(rt, task, target, outcome)
    return effect is not None


async def resolve_expired_sending(rt: Runtime, now: datetime) -> Counter[str]:
    """Targets stuck in ``sending`` past their lease, resolved by the table (one recovery at a time)."""
    counts = Counter({str(v): 0 for v in Verdict})
    async with rt.locks.try_lock("recover:sending", ttl=RECOVER_LOCK_TTL) as held:
        if held is None:
            return counts  # another recovery is on it
        async with rt.db.session() as session:
            stuck = await in_flight.expired(session, TargetStatus.SENDING, now)
            tasks = {t.task_id: await task_store.task(session, t.task_id) for t in stuck}
        for target in stuck:
            task = tasks.get(target.task_id)
            if task is None:
                continue
            name = await _resolve_one(rt, task, target, now)
            if name is not None:
                counts[name] += 1
    return counts


async def _resolve_one(rt: Runtime, task: InviteTask, target: InviteTarget, now: datetime) -> Verdict | None:
    adapter = rt.adapters.get(task.platform)
    step = step_for(task.action, target.error_code, adapter.rules)
    key = target.operation_key
    resolution = await resolve(adapter, task, target, target.account_id, step, key, last_word=True)
    if resolution.verdict is Verdict.WAIT:
        async with rt.db.session() as session:
            until = now + timedelta(seconds=rt.settings.send_lease_seconds)
            moved = await in_flight.extend_lease(session, target.id, key, until, expired_at=now)
        return Verdict.WAIT if moved else None
    moved = await apply(rt, task, target, target.account_id or "", step, key, resolution, expired_at=now)
    if moved:
        async with rt.db.session() as session:
            await task_store.set_next_run(session, task.id, now)
        log.info("send_recovered", target_id=target.id, verdict=str(resolution.verdict))
    return resolution.verdict if moved else None
