"""Celery task: file a study's results into the PACS, retried with exponential backoff while it is down."""

import uuid
from typing import Any

from celery import Task, shared_task
from django.conf import settings

from pacs.filing import PacsUnavailableError, filing_unavailable, study_results_file
from pacs.models import ReceivedImage


@shared_task(name="pacs.file_results", bind=True, acks_late=True, max_retries=None)
def file_results(self: Task, study_id: str) -> None:
    try:
        study_results_file(study_id=uuid.UUID(study_id))
    except PacsUnavailableError as error:
        retries = self.request.retries
        if retries >= settings.CXR_PACS_SEND_RETRIES:
            filing_unavailable(
                study_id=uuid.UUID(study_id),
                message=f"{error} Gave up after {retries + 1} attempts.",
                final=True,
            )
            return
        delay = settings.CXR_PACS_RETRY_BASE_SECONDS * 2**retries
        filing_unavailable(
            study_id=uuid.UUID(study_id), message=f"{error} Trying again in {delay} s.", final=False
        )
        raise self.retry(countdown=delay) from error


def file_results_enqueue(*, study_id: uuid.UUID, **_: Any) -> None:
    """Queue the filing of a finished study's results, for studies a PACS sent (uploads have no PACS);
    also the receiver of studies.events.study_finished (its sender and signal are not needed)."""
    if ReceivedImage.objects.filter(study_id=study_id).exists():
        file_results.delay(str(study_id))
