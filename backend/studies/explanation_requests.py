"""Explanations on request: one finding of a study, one method, computed once by the worker and kept.

Asking (``explanation_request``) creates the study's row for that finding and method and queues it;
asking again returns the same row, so nothing is computed twice. Only a failed explanation, one
whose message was lost (queued past the queued deadline) or one whose worker died (running past the
task's hard time limit) is queued again; a second task for the same row finds it taken and stops.

The browser polls the one explanation while it computes (seconds to tens of seconds) rather than
hearing of it on the study event stream: that stream's events are study status changes, and its
other clients (the worklist, the PACS filing) have no use for one viewer's explanations.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.errors import DomainError
from ml.classifier.explanations.explanation import METHODS
from studies.dispatch import enqueue_explanation
from studies.models import Explanation, Finding, Study, StudyStatus


def checked_method(method: str) -> str:
    if method not in METHODS:
        raise DomainError(
            f"Unknown explanation method {method!r}.", extra={"method": method, "methods": list(METHODS)}
        )
    return method


def explanation_request(*, study: Study, finding: Finding, method: str) -> Explanation:
    """The study's explanation of ``finding`` by ``method``, queued for the worker if not yet computed."""
    checked_method(method)
    if study.status != StudyStatus.DONE:
        raise DomainError(
            "The study has not been analysed yet.", status_code=409, extra={"status": study.status}
        )
    with transaction.atomic():
        explanation, created = Explanation.objects.select_for_update().get_or_create(
            study=study, label=finding.label, method=method
        )
        if created or needs_another_run(explanation):
            explanation.status = StudyStatus.QUEUED
            explanation.message = ""
            explanation.requested_at = timezone.now()
            explanation.started_at = explanation.finished_at = None
            explanation.save(update_fields=["status", "message", "requested_at", "started_at", "finished_at"])
            explanation_id = explanation.pk
            transaction.on_commit(lambda: enqueue_explanation(explanation_id))
    return explanation


def needs_another_run(explanation: Explanation) -> bool:
    """Failed, queued past the queued deadline (its message lost) or running past the hard limit."""
    now = timezone.now()
    if explanation.status == StudyStatus.FAILED:
        return True
    if explanation.status == StudyStatus.QUEUED:
        return explanation.requested_at < now - timedelta(seconds=settings.CXR_QUEUED_DEADLINE_SECONDS)
    if explanation.status != StudyStatus.RUNNING or explanation.started_at is None:
        return False
    return explanation.started_at < now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
