"""The execution engine's sending half: ``process_batch`` (DESIGN §5).

One sender per account at a time, across tasks (the account lock). The task, its contact policy
and the targets are read once per batch. For each target, one transaction: re-check the task and
lane, pacing (from the ledger), the suppression list and consent (one SELECT), take the account's
limits (the ledger row, one EVALSHA on Redis), mark the target ``sending`` (only while the task
still runs) and claim the contact mark, commit; call the platform; record the outcome, counters,
log and lane state in one transaction; publish progress. A crash anywhere leaves the caps
over-counted, never under-counted. Each of those transactions runs once more if it found its
connection dead (``Database.unit``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from tenacity import AsyncRetrying, RetryError, retry_if_exception_type, stop_after_delay, wait_exponential

from invite_service.adapters.base import InvitePlatformAdapter, InviteResult
from invite_service.audiences import policy as contact_policy
from invite_service.context.jobs import defer
from invite_service.context.runtime import Runtime
from invite_service.execution.control import publish_status
from invite_service.execution.jobspec import dispatch_job
from invite_service.execution.keys import operation_key
from invite_service.execution.outcomes import StepOutcome, record
from invite_service.execution.policy import key_step, step_for, task_settings
from invite_service.execution.recovery import Resolution, Verdict, apply, resolve
from invite_service.execution.refs import target_ref, template_fields
from invite_service.execution.sending import account_lock, guarded, step_windows
from invite_service.invite_tasks.template import render
from invite_service.kit.faults import Boundary
from invite_service.kit.locks import LockNotAcquired
from invite_service.limits.base import REASON_RATE_LIMITED, Decision, Window
from invite_service.limits.caps import min_delay
from invite_service.models import InviteTarget, InviteTask
from invite_service.models.contact_policy import EffectivePolicy
from invite_service.models.enums import LaneStatus, Step, TargetStatus, TaskStatus
from invite_service.stores import in_flight, send_path
from invite_service.stores import logs as log_store
from invite_service.stores import tasks as task_store
from invite_service.stores.waiting import LANE_WAIT_CAP, park

log = structlog.get_logger(__name__)
MAX_INLINE_WAIT = 60.0  # a re-dispatch sooner than this rides a short broker countdown
YIELD_SECONDS = 1.0  # a batch that gave way to a higher-priority task looks again after this
DB_RETRY_SECONDS = 30.0  # how long a batch keeps trying to give its reservations back


class Next(Enum):
    CONTINUE = "continue"
    STOP = "stop"
    AGAIN = "again"  # same target, next step (invite_or_message falling back to a message)


@dataclass(frozen=True)
class Batch:
    """What a batch reads once and every send of it uses: the task as the batch started, its adapter,
    the account's pacing and the task's effective contact policy."""

    task: InviteTask
    adapter: InvitePlatformAdapter
    account_id: str
    delay: float
    rules: EffectivePolicy


@dataclass(frozen=True)
class Taken:
    """How the send transaction ended: ``gated`` (a check stopped or skipped the target) or the grant and
    whether the target was marked ``sending`` and the contact mark claimed."""

    gated: Next | None = None
    grant: Decision | None = None
    marked: bool = False
    claimed: bool = False


async def process_batch(
    rt: Runtime, task_id: str | uuid.UUID, account_id: str, target_ids: Sequence[int]
) -> None:
    tid = uuid.UUID(str(task_id))
    structlog.contextvars.bind_contextvars(task_id=str(tid))  # every log line of this job names its task
    try:
        async with account_lock(rt, account_id):
            await _run_batch(rt, tid, account_id, list(target_ids))
    except LockNotAcquired:
        log.info("account_busy", account_id=account_id, released=len(target_ids))
        async with rt.db.session() as session:  # the account is busy elsewhere: give the targets back
            await in_flight.release(session, tid, target_ids)
    except DBAPIError as exc:
        # The database failed mid-batch (a restart, a dropped connection). What was only reserved goes
        # back at once instead of waiting out its lease; a target caught in "sending" keeps its key and
        # is resolved by recovery through the outcome lookup. Then the job fails, visibly.
        log.warning("batch_database_error", account_id=account_id, error=type(exc.orig).__name__)
        await _release_after_db_error(rt, tid, account_id, list(target_ids), exc)
        raise
    await _redispatch(rt, tid, account_id)


async def _release_after_db_error(
    rt: Runtime, task_id: uuid.UUID, account_id: str, ids: list[int], exc: DBAPIError
) -> None:
    retrying = AsyncRetrying(
        stop=stop_after_delay(DB_RETRY_SECONDS),
        wait=wait_exponential(max=5),
        retry=retry_if_exception_type((DBAPIError, OSError)),
        reraise=False,
    )
    try:
        async for attempt in retrying:
            with attempt:
                async with rt.db.session() as session:
                    await in_flight.release(
                        session, task_id, ids
                    )  # what the batch's own release could not do
                    await log_store.log(
                        session,
                        task_id=task_id,
                        user_id=await task_store.task_owner(session, task_id),
                        account_id=account_id,
                        action="batch",
                        outcome="released",
                        error_code="DATABASE_ERROR",
                        detail=f"the database failed mid-batch ({type(exc.orig).__name__}); the batch's "
                        "reserved targets went back to the queue, a send in doubt is left to recovery",
                        at=rt.clock.now(),
                    )
                    await task_store.set_next_run(session, task_id, rt.clock.now())
    except RetryError:
        log.error("batch_release_failed", account_id=account_id, reserved=len(ids))


async def _run_batch(rt: Runtime, task_id: uuid.UUID, account_id: str, ids: list[int]) -> None:
    async def start(session: AsyncSession) -> tuple[InviteTask, list[InviteTarget], EffectivePolicy] | None:
        task = await task_store.task(session, task_id)
        if task is None:
            return None
        if await task_store.higher_priority_waiting(session, task.priority, rt.clock.now()):
            # Queues are consumed round-robin; yielding here makes higher-priority batches go first
            # on a shared worker. This batch's targets go back and the task is looked at again soon.
            await in_flight.release(session, task_id, ids)
            lane = await task_store.lane(session, task_id, account_id)
            if lane is not None:
                park(lane, rt.clock.now() + timedelta(seconds=YIELD_SECONDS))
            return None
        targets = await in_flight.targets_by_ids(session, task_id, ids)
        return task, targets, await contact_policy.task_policy(session, task)

    started = await rt.db.unit(start)
    if started is None:
        return
    task, targets, rules = started
    mine = [t for t in targets if t.status is TargetStatus.RESERVED and t.account_id == account_id]
    delay = min_delay(rt.settings.caps_for(task.platform), task_settings(task))
    batch = Batch(task, rt.adapters.get(task.platform), account_id, delay, rules)
    rest = [t.id for t in mine]  # what may still be reserved when the loop ends
    try:
        for n, target in enumerate(mine):
            rest = [t.id for t in mine[n:]]
            step = step_for(task.action, target.error_code, batch.adapter.rules)
            outcome = await _send_one(rt, batch, target, step)
            if outcome is Next.AGAIN:
                outcome = await _send_one(rt, batch, target, Step.MESSAGE)
            if outcome is Next.STOP:
                break
        else:
            rest = []  # every target went on (sent, skipped): none is left reserved
    finally:
        # Whatever this batch did not finish goes back to the pool (only rows still reserved move).
        if rest:
            async with rt.db.session() as session:
                await in_flight.release(session, task_id, rest)


async def _redispatch(rt: Runtime, task_id: uuid.UUID, account_id: str) -> None:
    """After a batch, look at the task again as soon as its lane may act."""
    async with rt.db.session() as session:
        task, lane = await send_path.task_and_lane(session, task_id, account_id)
        if task is None or task.status is not TaskStatus.RUNNING:
            return
        now = rt.clock.now()
        wait = 0.0
        if lane is not None and lane.next_action_at is not None:
            wait = max(0.0, (lane.next_action_at - now).total_seconds())
        if wait <= MAX_INLINE_WAIT:
            defer(session, dispatch_job(task_id, task.priority, countdown=wait))
        elif lane is not None:  # a long wait: the ticker wakes the task when it is due
            await task_store.set_next_run(session, task_id, lane.next_action_at)


async def _gate(
    rt: Runtime, session: AsyncSession, batch: Batch, target: InviteTarget, now: datetime
) -> Next | None:
    """Checks before taking a slot, read in one statement: task running, lane active, pacing, suppression,
    consent. A stop leaves the target reserved (the batch gives it back); a skip finishes it."""
    task, account_id = batch.task, batch.account_id
    checks = await send_path.gate(
        session,
        task.id,
        account_id,
        contact_policy.identity(task, target),
        pacing=batch.delay > 0,
        consent=batch.rules.require_consent,
    )
    if checks is None or checks.task_status != TaskStatus.RUNNING:
        return Next.STOP
    if checks.lane.status is not LaneStatus.ACTIVE:
        return Next.STOP
    last = checks.last_action_at
    if last is not None and last + timedelta(seconds=batch.delay) > now:
        park(checks.lane, last + timedelta(seconds=batch.delay))
        return Next.STOP
    if checks.suppressed:
        await in_flight.finish_target(
            session,
            task.id,
            target.id,
            TargetStatus.RESERVED,
            TargetStatus.SKIPPED,
            error_code="suppressed",
            processed_at=now,
            lease_until=None,
        )
        await log_store.log(
            session,
            task_id=task.id,
            user_id=task.user_id,
            target_id=target.id,
            account_id=account_id,
            action="check",
            outcome="suppressed",
            error_code="suppressed",
            at=now,
        )
        await publish_status(session, rt, task)
        return Next.CONTINUE
    if not checks.consented:
        await contact_policy.skip(
            session, task, target, account_id, contact_policy.NO_CONSENT, Step.INVITE, now
        )
        await publish_status(session, rt, task)
        return Next.CONTINUE
    return None


async def _send_one(rt: Runtime, batch: Batch, target: InviteTarget, step: Step) -> Next:
    task, account_id = batch.task, batch.account_id
    now = rt.clock.now()
    windows = step_windows(rt, task, step)
    key = operation_key(task.id, target.id, key_step(step, target.error_code), target.lineage)
    lease_until = now + timedelta(seconds=rt.settings.send_lease_seconds)

    async def take(session: AsyncSession) -> Taken:
        """The gate, the ledger row, ``sending`` and the contact mark: one transaction."""
        gated = await _gate(rt, session, batch, target, now)
        if gated is not None:
            return Taken(gated=gated)  # committed by the unit: a parked lane, a skipped target
        async with rt.limiter.acquire(
            session, account_id, step, windows, now, task_id=task.id, target_id=target.id
        ) as grant:
            marked, claimed = False, True
            if grant.granted:
                # The person's contact mark, claimed in the same commit (the same statement on PostgreSQL):
                # the frequency cap holds under concurrency.
                claim = contact_policy.claim_statement(rt.db.backend, task, target, step, now, batch.rules)
                marked, claimed = await send_path.mark_sending(
                    session, task.id, target.id, account_id, key, lease_until, claim
                )
            if marked and claimed:
                # The ledger row, "sending", the key and the mark become visible together.
                await session.commit()
            else:
                # A denied slot, the task stopped, or contacted recently: nothing taken.
                await session.rollback()
        return Taken(grant=grant, marked=marked, claimed=claimed)

    taken = await rt.db.unit(take)
    if taken.gated is not None:
        return taken.gated
    grant = taken.grant
    assert grant is not None
    if not grant.granted:
        await _limited(rt, task, target, account_id, grant, step, windows)
        return Next.STOP
    if not taken.claimed:
        async with rt.db.session() as session:
            await contact_policy.skip(
                session, task, target, account_id, contact_policy.CONTACTED_RECENTLY, step, now
            )
            await publish_status(session, rt, task)
        return Next.CONTINUE
    if not taken.marked:
        return Next.STOP
    await rt.faults.hit(Boundary.AFTER_MARK_SENDING, task_id=task.id, target_id=target.id)

    adapter = batch.adapter
    started = time.perf_counter()
    result = await _call(adapter, task, target, account_id, step, key)
    duration_ms = int((time.perf_counter() - started) * 1000)
    await rt.faults.hit(Boundary.AFTER_CALL, task_id=task.id, target_id=target.id)
    if result.delivery_uncertain:
        # No usable answer: the platform may have acted. Decide only from proof (recovery.py).
        resolution = await resolve(adapter, task, target, account_id, step, key, last_word=False)
        if resolution.verdict is Verdict.WAIT:
            await _in_doubt(rt, task, target, account_id, step, result, resolution)
            return Next.STOP
        await apply(rt, task, target, account_id, step, key, resolution, answer=result)
        return Next.STOP  # the service just failed us: let the lane pause before its next send
    effect = await record(
        rt, task, target, StepOutcome(account_id, step, key, result, grant=grant, duration_ms=duration_ms)
    )
    if effect is None:  # a recovery took this target over while the call ran
        return Next.STOP
    if effect.fallback_to_message:
        return Next.AGAIN
    return Next.STOP if effect.stop_batch else Next.CONTINUE


async def _in_doubt(
    rt: Runtime,
    task: InviteTask,
    target: InviteTarget,
    account_id: str,
    step: Step,
    result: InviteResult,
    resolution: Resolution,
) -> None:
    """Nothing can tell yet: the target stays ``sending`` for recovery, and the log says why."""
    async with rt.db.session() as session:
        await log_store.log(
            session,
            task_id=task.id,
            user_id=task.user_id,
            target_id=target.id,
            account_id=account_id,
            action=str(step),
            outcome="in_doubt",
            error_code=result.error_code,
            detail=f"{resolution.via}; recovery decides after the send lease",
            at=rt.clock.now(),
        )


async def _call(
    adapter: InvitePlatformAdapter,
    task: InviteTask,
    target: InviteTarget,
    account_id: str,
    step: Step,
    key: str,
) -> InviteResult:
    if step is Step.INVITE:
        call = adapter.send_invite(account_id, task.destination or "", target_ref(target), key=key)
    else:
        text = render(task.message_template or "", template_fields(target))
        call = adapter.send_message(account_id, target_ref(target), text, key=key)
    return await guarded(call, task, step)


async def _limited(
    rt: Runtime,
    task: InviteTask,
    target: InviteTarget,
    account_id: str,
    grant: Decision,
    step: Step,
    windows: Sequence[Window],
) -> None:
    now = rt.clock.now()
    retry_at = grant.retry_at or now + timedelta(seconds=60)
    async with rt.db.session() as session:
        await in_flight.release(session, task.id, [target.id], next_attempt_at=retry_at)
        lane = await task_store.lane(session, task.id, account_id)
        if lane is not None:
            if grant.reason == REASON_RATE_LIMITED:
                # A full cap: which window, for the API's "at the hourly limit until …" (a ledger read
                # on this rare path only: dispatch parks a lane at its cap before it reserves).
                usage = await rt.limiter.usage(session, account_id, step, windows, now)
                full = [u.seconds for u in usage if u.remaining <= 0]
                park(lane, retry_at, LANE_WAIT_CAP, max(full) if full else None)
            else:
                park(lane, retry_at)
            if grant.reason and grant.reason != "rate_limited":
                lane.last_error = grant.reason
