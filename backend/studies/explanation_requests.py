"""Explanations on request: one finding of a study, one method, computed once by the worker and kept.

Asking (``explanation_request``) creates the study's row for that finding and method and queues it;
asking again returns the same row, so nothing is computed twice. Only a failed explanation or a
stuck one (common.jobs: its message lost, or its worker dead) is queued again; a second task for the
same row finds it taken and stops. The reconciler ends stuck ones nobody asks for again.

The browser polls the one explanation while it computes (seconds to tens of seconds) rather than
hearing of it on the study event stream: that stream's events are study status changes, and its
other clients (the worklist, the PACS filing) have no use for one viewer's explanations.
"""

from django.db import transaction
from django.utils import timezone

from common.errors import DomainError
from common.jobs import job_enqueued, job_kind_of, job_save, stuck_jobs
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
            job_enqueued(explanation)
            job_save(explanation)
            enqueue_explanation(explanation.pk)
    return explanation


def needs_another_run(explanation: Explanation) -> bool:
    """Failed, or stuck as the reconciler sees it (queued or running past its deadline)."""
    if explanation.status == StudyStatus.FAILED:
        return True
    return stuck_jobs(job_kind_of(Explanation), timezone.now()).filter(pk=explanation.pk).exists()
