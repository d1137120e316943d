"""Writes on the audit log: one function that records an event. Nothing here changes or deletes one."""

from typing import Any

from django.http import HttpRequest

from accounts.models import User
from audit.client_address import client_address
from audit.models import AuditAction, AuditEvent


def audit_record(
    *,
    action: AuditAction,
    request: HttpRequest | None = None,
    actor: User | None = None,
    username: str = "",
    target_type: str = "",
    target_id: object = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that `actor` (by default the request's signed-in user) did `action` on a target.

    `username` names the account a failed sign-in tried, when there is no actor.
    """
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_username=(actor.username if actor is not None else username)[:150],
        target_type=target_type,
        target_id=str(target_id)[:64],
        ip_address=client_address(request) if request is not None else None,
        detail=detail or {},
    )
