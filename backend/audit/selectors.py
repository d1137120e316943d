"""Reads on the audit log, for admins."""

import datetime

from django.db.models import Case, CharField, OuterRef, QuerySet, Subquery, When
from django.db.models.functions import Cast

from accounts.models import User
from audit.models import AuditEvent
from common.dates import day_end, day_start


def audit_event_list(
    *,
    actor: str | None = None,
    action: str | None = None,
    target_id: str | None = None,
    created_after: datetime.date | None = None,
    created_before: datetime.date | None = None,
) -> QuerySet[AuditEvent]:
    """Events newest first. Dates are whole days, both ends included. An event on a user names
    them (``target_username``), so that the log reads "dr.house", not "user 3"."""
    target_user = (
        User.objects.annotate(key=Cast("id", CharField()))
        .filter(key=OuterRef("target_id"))
        .values("username")
    )
    events = AuditEvent.objects.annotate(
        target_username=Case(When(target_type="user", then=Subquery(target_user[:1])), default=None)
    )
    if actor:
        events = events.filter(actor_username__iexact=actor)
    if action:
        events = events.filter(action=action)
    if target_id:
        events = events.filter(target_id=target_id)
    if created_after:
        events = events.filter(created_at__gte=day_start(created_after))
    if created_before:
        events = events.filter(created_at__lt=day_end(created_before))
    return events.order_by("-created_at", "-id")
