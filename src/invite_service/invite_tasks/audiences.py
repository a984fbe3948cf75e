"""A task's audiences and contact-policy override: validation on save, storage, and the API's view."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.errors import FieldError, InvalidInput
from invite_service.models.contact_policy import EffectivePolicy, strength
from invite_service.models.task_settings import AudienceRules, AudienceSelection, ContactPolicyOverride
from invite_service.stores import contact_marks, task_audiences
from invite_service.stores.task_audiences import Selection


async def audience_errors(
    session: AsyncSession, user_id: str, platform: str, selection: AudienceSelection
) -> list[FieldError]:
    """Each audience must be the user's (another user's is as unknown as a made-up id) and the platform's."""
    ids = [*selection.include, *selection.exclude]
    platforms = await task_audiences.audience_platforms(session, user_id, ids)
    errors: list[FieldError] = []
    for mode in ("include", "exclude"):
        for i, audience_id in enumerate(getattr(selection, mode)):
            loc = ("body", "audiences", mode, i)
            if audience_id not in platforms:
                errors.append(FieldError(loc, f"no audience {audience_id}", "not_found"))
            elif platforms[audience_id] != platform:
                msg = f"the audience is for {platforms[audience_id]}, the task for {platform}"
                errors.append(FieldError(loc, msg, "platform_mismatch"))
    return errors


def override_errors(
    user: EffectivePolicy,
    override: ContactPolicyOverride | None,
    loc: tuple[str, ...] = ("body", "settings", "contact_policy"),
) -> list[FieldError]:
    """A task may only tighten the user's contact policy."""
    if override is None:
        return []
    errors: list[FieldError] = []
    for name in ("message_cooldown_days", "invite_cooldown_days"):
        mine, theirs = getattr(override, name), getattr(user, name)
        if mine is not None and strength(mine) < strength(theirs):
            shown = "never again" if theirs is None else f"{theirs} days"
            errors.append(
                FieldError((*loc, name), f"may only be stricter than your policy ({shown})", "looser")
            )
    if override.require_consent is False and user.require_consent:
        errors.append(
            FieldError(
                (*loc, "require_consent"), "your policy requires consent; a task cannot drop it", "looser"
            )
        )
    return errors


async def check(
    session: AsyncSession,
    user_id: str,
    platform: str,
    selection: AudienceSelection | None,
    override: ContactPolicyOverride | None,
) -> None:
    errors = await audience_errors(session, user_id, platform, selection) if selection else []
    errors += override_errors(await contact_marks.policy(session, user_id), override)
    if errors:
        raise InvalidInput("The task is not valid; see errors.", errors=errors)


async def save(
    session: AsyncSession, task_id: uuid.UUID, selection: AudienceSelection | None, settings: dict[str, Any]
) -> dict[str, Any]:
    """Store the selection (rows + the settings' rules); returns the settings to save."""
    if selection is None:
        await task_audiences.set_selection(session, task_id, [], [])
        return {**settings, "audience_rules": None}
    await task_audiences.set_selection(session, task_id, selection.include, selection.exclude)
    rules = AudienceRules(
        exclude_tags=selection.exclude_tags, include_new_contacts=selection.include_new_contacts
    )
    return {**settings, "audience_rules": rules.model_dump(mode="json")}


def view(selection: Selection | None, settings: Mapping[str, Any]) -> AudienceSelection | None:
    if selection is None or not selection.include:
        return None
    rules = AudienceRules.model_validate(settings.get("audience_rules") or {})
    return AudienceSelection(
        include=selection.include,
        exclude=selection.exclude,
        exclude_tags=rules.exclude_tags,
        include_new_contacts=rules.include_new_contacts,
    )


async def copy(session: AsyncSession, source_id: uuid.UUID, dest_id: uuid.UUID) -> None:
    selection = (await task_audiences.selections(session, [source_id])).get(source_id)
    if selection is not None:
        await task_audiences.set_selection(session, dest_id, selection.include, selection.exclude)
