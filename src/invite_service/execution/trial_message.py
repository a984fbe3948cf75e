""" "Send a test to myself" (``POST /tasks/{id}/test-message``): the task's message, rendered for one of its
targets (or a sample with empty fields), sent to the user's own address.

It is the engine's send, not a second one: the same account lock, pacing and cap windows
(``sending.account_lock``, ``paced_until``, ``step_windows``), the same limiter ``acquire`` (the ledger row
counts against the account's message caps, committed before the call; refunded when the call provably never
left), the same adapter registry and guarded call, and the same policy for what an answer does to the
account (a FLOOD_WAIT or a restriction holds the account in every task, as ``outcomes`` would).

What it does not do: create a target, touch the task's targets or counters, or write the task's execution
log (whose rows are the task's calls, counted by the statistics). It is recorded in the audit log
(``task.test_message``), without the address (it may be a phone number).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.adapters.base import InviteResult, TargetRef
from invite_service.context.runtime import Runtime
from invite_service.errors import Conflict, FieldError, InvalidInput, ServiceUnavailable, TooManyRequests
from invite_service.execution.policy import LANE_USABLE, Tuning, effect_of
from invite_service.execution.refs import template_fields
from invite_service.execution.sending import account_lock, guarded, paced_until, step_windows
from invite_service.invite_tasks.schemas import MessageTestIn, MessageTestOut
from invite_service.invite_tasks.template import render
from invite_service.kit.locks import LockNotAcquired
from invite_service.limits.base import REASON_UNAVAILABLE, Decision, Window
from invite_service.models import InviteTask, Lane
from invite_service.models.enums import Step, TargetKind
from invite_service.models.identity import (
    NormalizeError,
    normalize_phone,
    normalize_user_id,
    normalize_username,
)
from invite_service.observability import audit
from invite_service.stores import targets as target_store
from invite_service.stores import tasks as task_store

# A pacing wait this short is waited out in the request (the sandbox's spacing is 0.5 s); a longer one
# (Telegram's 30 s) is answered with the time to come back.
PACING_INLINE_SECONDS = 2.0
# Operation keys of test messages: from the request's Idempotency-Key when it has one, so a retried request
# is the same operation at the Integration Service (the platform acts at most once).
_NAMESPACE = uuid.UUID("0b8f6a52-3c1d-4e7a-9b2f-6d4e8a1c5f37")
_DIGITS = re.compile(r"^\d{1,20}$")
_PHONE = re.compile(r"^(?:\+|00)?[\d\s().-]{5,30}$")


class NotAMessageTask(Conflict):
    code, title = "NOT_A_MESSAGE_TASK", "The task sends no messages"


class NoAccountCanSend(Conflict):
    code, title = "NO_USABLE_ACCOUNT", "No account of the task can send"


class CapReached(TooManyRequests):
    code, title = "CAP_REACHED", "The account's message cap is reached"


class AccountWaiting(TooManyRequests):
    code, title = "ACCOUNT_WAITING", "The account must wait before it sends again"


class AccountBusy(Conflict):
    code, title = "ACCOUNT_BUSY", "The account is sending for a task"


def recipient(raw: str, region: str) -> TargetRef:
    """``to`` as a target: digits only → a user id; ``+``, ``00`` or separators → a phone; else a username."""
    value = raw.strip()
    try:
        if _DIGITS.match(value) and not value.startswith("00"):
            user_id = normalize_user_id(value)
            return TargetRef(kind=TargetKind.USER_ID, key=user_id, platform_user_id=user_id)
        if _PHONE.match(value):
            phone = normalize_phone(value, region)
            return TargetRef(kind=TargetKind.PHONE, key=phone, phone=phone)
        username = normalize_username(value)
        return TargetRef(kind=TargetKind.USERNAME, key=username, username=username)
    except NormalizeError as exc:
        message = f"{exc}; give your own @username, phone (+7…) or numeric user id"
        raise InvalidInput(
            "The address is not valid; see errors.", errors=[FieldError(("body", "to"), message)]
        ) from None


def _retry_after(until: datetime, now: datetime) -> dict[str, str]:
    return {"Retry-After": str(max(1, int((until - now).total_seconds() + 0.999)))}


async def _template_fields(
    session: AsyncSession, user_id: str, task: InviteTask, target_id: int | None
) -> dict[str, Any]:
    if target_id is None:
        return {}  # a sample with empty fields: the fallbacks show
    target = await target_store.get_target(session, user_id, task.id, target_id)
    if target is None:
        raise InvalidInput(
            "No such target in this task.",
            errors=[FieldError(("body", "target_id"), f"the task has no target {target_id}")],
        )
    return template_fields(target)


async def _room(
    rt: Runtime, session: AsyncSession, account_id: str, windows: list[Window], now: datetime
) -> bool:
    usage = await rt.limiter.usage(session, account_id, str(Step.MESSAGE), windows, now)
    return all(u.remaining > 0 for u in usage)


def _waiting(lane: Lane, now: datetime) -> NoReturn:
    until = lane.cooldown_until or now
    raise AccountWaiting(
        f"Account {lane.account_id!r} waits out a platform wait (FLOOD_WAIT) until {until:%H:%M:%S} UTC.",
        headers=_retry_after(until, now),
        extra={"until": until.isoformat(), "reason": "flood_wait", "account_id": lane.account_id},
    )


async def _choose_account(
    session: AsyncSession, rt: Runtime, task: InviteTask, asked: str | None, now: datetime
) -> str:
    lanes: list[Lane] = await task_store.lanes(session, task.id)
    if asked is not None:
        lane = next((lane for lane in lanes if lane.account_id == asked), None)
        if lane is None:
            raise InvalidInput(
                "The account is not one of the task's.",
                errors=[FieldError(("body", "account_id"), f"{asked!r} is not one of this task's accounts")],
            )
        if lane.status not in LANE_USABLE:
            raise NoAccountCanSend(f"Account {asked!r} is {lane.status} in this task; it cannot send now.")
        if lane.cooldown_until and lane.cooldown_until > now:
            _waiting(lane, now)
        return asked
    usable = [lane for lane in lanes if lane.status in LANE_USABLE]
    if not usable:
        raise NoAccountCanSend(
            "No account of the task can send (each is restricted, unavailable or excluded)."
        )
    ready = [lane for lane in usable if not (lane.cooldown_until and lane.cooldown_until > now)]
    if not ready:
        first = min(usable, key=lambda lane: lane.cooldown_until or now)
        _waiting(first, now)
    windows = step_windows(rt, task, Step.MESSAGE)
    for lane in ready:
        if await _room(rt, session, lane.account_id, windows, now):
            return lane.account_id
    return ready[0].account_id  # every one is at its cap: its acquire says until when


async def _cap_reached(
    rt: Runtime, task: InviteTask, account_id: str, grant: Decision, now: datetime
) -> CapReached:
    windows = step_windows(rt, task, Step.MESSAGE)
    async with rt.db.session() as session:
        usage = await rt.limiter.usage(session, account_id, str(Step.MESSAGE), windows, now)
    full = [u.seconds for u in usage if u.remaining == 0]
    window = max(full) if full else None
    until = grant.retry_at
    when = f"until {until:%Y-%m-%d %H:%M:%S} UTC" if until else "(a cap of 0: never)"
    return CapReached(
        f"Account {account_id!r} has sent as many messages as its cap allows; it can send again {when}.",
        headers=_retry_after(until, now) if until else None,
        extra={
            "until": until.isoformat() if until else None,
            "window_seconds": window,
            "account_id": account_id,
        },
    )


async def _send(
    rt: Runtime, task: InviteTask, account_id: str, to: TargetRef, text: str, key: str
) -> InviteResult:
    """The engine's send for one message: lock, pacing, cap, call, refund, account effects."""
    adapter = rt.adapters.get(task.platform)
    async with account_lock(rt, account_id):
        now = rt.clock.now()
        async with rt.db.session() as session:
            paced = await paced_until(rt, session, task, account_id, now)
        if paced is not None:
            wait = (paced - now).total_seconds()
            if wait > PACING_INLINE_SECONDS:
                raise AccountWaiting(
                    f"Account {account_id!r} keeps its spacing between sends; it can send at "
                    f"{paced:%H:%M:%S} UTC.",
                    headers=_retry_after(paced, now),
                    extra={"until": paced.isoformat(), "reason": "pacing", "account_id": account_id},
                )
            await asyncio.sleep(wait)
            now = rt.clock.now()
        windows = step_windows(rt, task, Step.MESSAGE)
        async with (
            rt.db.sessionmaker() as session,
            rt.limiter.acquire(session, account_id, Step.MESSAGE, windows, now, task_id=task.id) as grant,
        ):
            if grant.granted:
                await session.commit()  # the ledger row is visible before the call, as in the engine
            else:
                await session.rollback()
        if not grant.granted:
            if grant.reason == REASON_UNAVAILABLE:
                raise ServiceUnavailable("The rate limiter is unavailable; try again in a moment.")
            raise await _cap_reached(rt, task, account_id, grant, now)
        result = await guarded(adapter.send_message(account_id, to, text, key=key), task, Step.MESSAGE)
        done = rt.clock.now()
        async with rt.db.session() as session:
            if not result.charged:
                await rt.limiter.refund(session, grant)
            effect = effect_of(
                result,
                action=task.action,
                step=Step.MESSAGE,
                attempts=0,
                max_attempts=1,
                previous_error=None,
                now=done,
                tuning=Tuning.from_settings(rt.settings),
                rules=adapter.rules,
            )
            if effect.account_wide and effect.lane_status is not None:
                # The platform's wait or restriction binds the account, in every task that uses it.
                await task_store.restrict_account(
                    session,
                    account_id,
                    effect.lane_status,
                    effect.lane_cooldown_until,
                    done,
                    result.error_code,
                )
    return result


def operation_key(user_id: str, task_id: uuid.UUID, idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return uuid.uuid4().hex
    return uuid.uuid5(_NAMESPACE, f"test-message/{user_id}/{task_id}/{idempotency_key}").hex


async def send_test_message(
    session: AsyncSession,
    rt: Runtime,
    task: InviteTask,
    body: MessageTestIn,
    *,
    idempotency_key: str | None = None,
) -> MessageTestOut:
    """``task``: the caller's own (``get_owned``; the API's ``OwnedTask`` dependency, which answers 404
    before the body is looked at)."""
    user_id = task.user_id
    if not task.action.messages:
        raise NotAMessageTask(
            f"The task's action is '{task.action.value}': it sends no messages, so there is nothing to test.",
            extra={"action": task.action.value},
        )
    if not task.message_template:
        raise InvalidInput(
            "The task has no message template.",
            errors=[
                FieldError(("task", "message_template"), "a message template is needed to send messages")
            ],
        )
    to = recipient(body.to, rt.settings.default_phone_region)
    text = render(task.message_template, await _template_fields(session, user_id, task, body.target_id))
    account_id = await _choose_account(session, rt, task, body.account_id, rt.clock.now())
    try:
        result = await _send(rt, task, account_id, to, text, operation_key(user_id, task.id, idempotency_key))
    except LockNotAcquired:
        raise AccountBusy(
            f"Account {account_id!r} is busy sending for a task; try again in a moment.",
            extra={"account_id": account_id},
        ) from None
    await audit.record(
        session,
        user_id,
        "task.test_message",
        "task",
        task.id,
        {
            "account_id": account_id,
            "to_kind": str(to.kind),
            "target_id": body.target_id,
            "outcome": str(result.outcome),
            "error_code": result.error_code,
        },
    )
    return MessageTestOut(
        rendered=text,
        account_id=account_id,
        outcome=str(result.outcome),
        error_code=result.error_code,
        detail=(result.detail or "")[:500] or None,
    )
