"""Live study status: every change of a study's status is published, and streamed to the browser.

The places that change a status call ``study_events_publish`` inside their transaction; once it
commits, each study's state as committed goes to its owner's channel and to the admins' channel
(studies.event_broker). ``study_event_stream`` turns one user's channel into server-sent events.

A stream is authenticated once, when it opens, but may stay open for a token's lifetime: every
change saved to its user (through the API, the admin site or a shell) is announced on the user's
own channel, and the stream ends at once when its user is deactivated, changes role or has a new
password, so that it never tells anyone what they may no longer see.
"""

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections, transaction
from django.dispatch import Signal

from accounts.models import User
from studies import event_broker
from studies.models import AnalyserRun, Study, StudyStatus
from studies.serializers import StudyEventSerializer

# Sent, with ``study_id``, once a study's analysis is over and committed: its findings stored and
# every analyser run beside them ended (done or failed), so that what is sent on holds every
# result. Integrations (the PACS filing) connect to it in their AppConfig.ready, so that the core
# names none of them.
study_finished = Signal()


def study_finished_announce(study_id: uuid.UUID) -> None:
    """Announce ``study_id`` finished once the current transaction commits, unless an analyser run
    of it has yet to end (its end announces it then); a receiver's failure (a broker down) is logged
    and never fails the analysis already committed."""
    if AnalyserRun.objects.filter(
        study_id=study_id, status__in=[StudyStatus.QUEUED, StudyStatus.RUNNING]
    ).exists():
        return
    transaction.on_commit(lambda: study_finished.send(sender=Study, study_id=study_id), robust=True)


def owner_channel(owner_id: int) -> str:
    return f"{settings.CXR_EVENTS_CHANNEL_PREFIX}:study-events:owner:{owner_id}"


def all_studies_channel() -> str:
    return f"{settings.CXR_EVENTS_CHANNEL_PREFIX}:study-events:all"


def user_channel(user_id: int) -> str:
    return f"{settings.CXR_EVENTS_CHANNEL_PREFIX}:study-events:user:{user_id}"


def channels_for(user: User) -> list[str]:
    """What ``user`` may hear: an admin every study's events, a clinician only their own."""
    return [all_studies_channel()] if user.is_staff else [owner_channel(user.pk)]


def study_events_publish(study_ids: Iterable[uuid.UUID]) -> None:
    """Publish the status of these studies once the current transaction commits (at once outside one)."""
    ids = list(study_ids)
    # robust: a broker that is down must not fail the analysis whose result is already committed.
    transaction.on_commit(lambda: publish_committed(ids), robust=True)


def publish_committed(study_ids: list[uuid.UUID]) -> None:
    # Read back what was committed, so that an event never announces a state that was rolled back.
    studies = Study.objects.filter(pk__in=study_ids).only(*StudyEventSerializer.Meta.fields, "owner_id")
    for study in studies:
        event_broker.publish(
            channels=[owner_channel(study.owner_id), all_studies_channel()],
            message=json.dumps(StudyEventSerializer(study).data),
        )


def user_changed_publish(*, user_id: int) -> None:
    """Tell the user's open streams, once the change commits, to check whether they may go on."""
    # robust: the change is committed; a stream that missed it checks again at its next heartbeat.
    transaction.on_commit(
        lambda: event_broker.publish(channels=[user_channel(user_id)], message="changed"), robust=True
    )


def stream_still_allowed(user: User) -> bool:
    """Whether ``user`` may still hear what their stream was opened for: still active, in the same
    role, with the same password (a new one revokes every token)."""
    try:
        return User.objects.filter(
            pk=user.pk, is_active=True, is_staff=user.is_staff, password=user.password
        ).exists()
    finally:
        # The stream holds no database connection while it waits (studies.views).
        connections.close_all()


def server_sent_event(event: str, data: str) -> str:
    return f"event: {event}\ndata: {data}\n\n"


async def study_event_stream(*, user: User, until: float) -> AsyncIterator[str]:
    """Server-sent events for ``user``'s studies until the epoch time ``until`` (their token's expiry).

    The first event, ``ready``, comes once the subscription is live: a client that refetches then
    misses nothing. Comments keep proxies from closing a quiet stream. The stream ends when the
    token expires, and the client reconnects with a fresh one; it ends at once when a change to
    its user is announced that takes away what it was opened for (and, should an announcement be
    lost, at the next heartbeat's check). A client that goes away cancels the generator, and
    leaving the ``async with`` ends the subscription.
    """
    heartbeat = settings.CXR_EVENTS_HEARTBEAT_SECONDS
    own_channel = user_channel(user.pk)
    async with event_broker.subscribe([*channels_for(user), own_channel]) as subscription:
        yield server_sent_event("ready", "{}")
        while (left := until - time.time()) > 0:
            message = await subscription.next_message(timeout=min(heartbeat, left))
            if message is not None and message.channel != own_channel:
                yield server_sent_event("study", message.data)
                continue
            if not await sync_to_async(stream_still_allowed)(user):
                return
            if message is None:
                yield ": heartbeat\n\n"
