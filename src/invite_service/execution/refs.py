"""How the engine hands a target to an adapter: its identities and its template fields."""

from __future__ import annotations

from typing import Any

from invite_service.adapters.base import TargetRef
from invite_service.models import InviteTarget


def target_ref(target: InviteTarget) -> TargetRef:
    return TargetRef(
        kind=target.kind,
        key=target.key,
        username=target.username,
        platform_user_id=target.platform_user_id,
        phone=target.phone,
        first_name=target.first_name,
        last_name=target.last_name,
    )


def template_fields(target: InviteTarget) -> dict[str, Any]:
    return {
        **target.extra,
        "first_name": target.first_name,
        "last_name": target.last_name,
        "username": target.username,
    }
