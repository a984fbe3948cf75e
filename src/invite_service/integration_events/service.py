"""An inbound reply: record it once per event id, mark the targets it answers, opt the person out.

No reply text is stored or logged anywhere: the text is read for the opt-out keywords and dropped.
The log line, the audit event and the execution log say what happened (event id, account, counts).
"""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.config import Settings
from invite_service.integration_events.keywords import is_opt_out
from invite_service.integration_events.schemas import IntegrationEventIn, IntegrationEventOut, Peer
from invite_service.kit.clock import utcnow
from invite_service.models.enums import SuppressionReason, TargetKind
from invite_service.models.identity import (
    NormalizeError,
    normalize_phone,
    normalize_user_id,
    normalize_username,
)
from invite_service.observability import audit
from invite_service.stores import logs
from invite_service.stores import replies as repo
from invite_service.stores import suppressions as suppression_store

log = structlog.get_logger(__name__)


def peer_identities(peer: Peer, region: str) -> dict[TargetKind, str]:
    """The peer's identities normalised as targets and suppressions store them; an unusable one (a
    username Telegram would not issue, say) is left out rather than failing the event."""
    out: dict[TargetKind, str] = {}
    for kind, value, normalize in (
        (TargetKind.USER_ID, peer.user_id, normalize_user_id),
        (TargetKind.USERNAME, peer.username, normalize_username),
        (TargetKind.PHONE, peer.phone, lambda v: normalize_phone(v, region)),
    ):
        if value:
            try:
                out[kind] = normalize(value)
            except NormalizeError:
                continue
    return out


async def receive(
    session: AsyncSession, settings: Settings, event: IntegrationEventIn
) -> IntegrationEventOut:
    now = utcnow()
    user_id = event.user_id
    if not await repo.claim_event(session, user_id, event.id, now):
        seen = await repo.get_event(session, user_id, event.id)
        log.info("integration_event.duplicate", event_id=event.id, account_id=event.account_id)
        return IntegrationEventOut(
            id=event.id,
            duplicate=True,
            replied_targets=seen.replied_targets if seen else 0,
            opted_out=seen.opted_out if seen else False,
        )
    identities = peer_identities(event.peer, settings.default_phone_region)
    platform = event.platform.value
    marked = await repo.mark_replied(session, user_id, platform, event.account_id, identities, now)
    opted_out = is_opt_out(event.text, settings.opt_out_keywords)
    if opted_out:
        source = f"reply:{event.account_id}"
        rows = [
            {
                "user_id": user_id,
                "platform": platform,
                "kind": kind.value,
                "key": key,
                "reason": SuppressionReason.REPLY_OPT_OUT.value,
                "source": source,
                "note": None,
            }
            for kind, key in identities.items()
        ]
        await suppression_store.insert_many(session, rows)
    outcome = "opted_out" if opted_out else "replied"
    for target_id, task_id in marked:
        await logs.log(
            session,
            task_id=task_id,
            user_id=user_id,
            target_id=target_id,
            account_id=event.account_id,
            action=repo.REPLY_ACTION,
            outcome=outcome,
            at=now,
        )
    await repo.set_event_result(session, user_id, event.id, len(marked), opted_out)
    await audit.record(
        session,
        user_id,
        "integration.reply",
        "integration_event",
        None,  # the ids (up to 128 characters each) go in the detail: object_id holds 64
        {
            "event_id": event.id,
            "account_id": event.account_id,
            "replied_targets": len(marked),
            "opted_out": opted_out,
        },
    )
    log.info(
        "integration_event.reply",
        event_id=event.id,
        account_id=event.account_id,
        replied_targets=len(marked),
        opted_out=opted_out,
    )
    return IntegrationEventOut(id=event.id, duplicate=False, replied_targets=len(marked), opted_out=opted_out)
