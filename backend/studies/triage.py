"""Triage that cannot starve a study: the worklist's score orders lift every study that has waited
unread past CXR_TRIAGE_MAX_WAIT_MINUTES, the longest wait first, above the rest in score order.

A study waits from its upload until someone first opens it with its results (Study.read_at). By
score alone, a steady stream of high-score studies keeps a low-score one at the bottom for as long
as the stream lasts; with the lift its wait is bounded by the limit plus the time to read the
studies lifted before it."""

import datetime

from django.conf import settings
from django.db.models import Case, DateTimeField, F, OrderBy, Q, TextChoices, Value, When
from django.db.models.functions import Now
from django.utils import timezone

from studies.models import Study, StudyStatus


class TriageReason(TextChoices):
    """Why a study stands where it does in a triage order."""

    WAITED_PAST_LIMIT = "waited_past_limit", "Lifted: unread past the wait limit, whatever its score"
    SCORE = "score", "Placed by its score"
    NOT_SCORED = "not_scored", "No score yet, after the scored studies"


def max_wait() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.CXR_TRIAGE_MAX_WAIT_MINUTES)


def lifted_since(*, now: datetime.datetime | None = None) -> Case:
    """When a study still unread crossed the wait limit (its upload plus the limit), else null."""
    oldest_not_lifted = (now or timezone.now()) - max_wait()
    return Case(
        When(
            Q(read_at__isnull=True, created_at__lte=oldest_not_lifted),
            then=F("created_at") + Value(max_wait()),
        ),
        default=None,
        output_field=DateTimeField(),
    )


def study_lifted_since(study: Study) -> datetime.datetime | None:
    """lifted_since for one study already loaded, as the worklist's query works it out."""
    if study.read_at is not None or study.created_at > timezone.now() - max_wait():
        return None
    return study.created_at + max_wait()


def triage_order(score: str) -> tuple[OrderBy | str, ...]:
    """Lifted studies first, longest wait first; then by ``score``, highest first, unscored last."""
    return (
        F("triage_lifted_since").asc(nulls_last=True),
        F(score).desc(nulls_last=True),
        "-created_at",
        "-pk",
    )


def triage_reason(*, lifted: bool, score: float | None) -> str:
    if lifted:
        return TriageReason.WAITED_PAST_LIMIT
    return TriageReason.SCORE if score is not None else TriageReason.NOT_SCORED


def study_mark_read(*, study: Study) -> None:
    """The first opening of a finished study ends its wait; a study opened while it is still being
    analysed has not been read (there was nothing to read yet)."""
    if study.read_at is not None or study.status != StudyStatus.DONE:
        return
    # One UPDATE that only the first opening wins, so concurrent openings keep the earliest time.
    Study.objects.filter(pk=study.pk, read_at__isnull=True).update(read_at=Now())
    study.refresh_from_db(fields=["read_at"])
