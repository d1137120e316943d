"""Celery task: file a study's results into the PACS, retried with exponential backoff while it is down."""

import uuid

from celery import Task, shared_task
from django.conf import settings

from pacs.dispatch import FILE_RESULTS
from pacs.filing import PacsUnavailableError, filing_unavailable, study_results_file


@shared_task(name=FILE_RESULTS, bind=True, acks_late=True, max_retries=None)
def file_results(self: Task, study_id: str) -> None:
    try:
        # The task id names the claim, so a redelivered task takes its filing back.
        study_results_file(study_id=uuid.UUID(study_id), claimant=self.request.id or "")
    except PacsUnavailableError as error:
        retries = self.request.retries
        if retries >= settings.CXR_PACS_SEND_RETRIES:
            filing_unavailable(
                study_id=uuid.UUID(study_id),
                message=f"{error} Gave up after {retries + 1} attempts.",
                retry_in=None,
            )
            return
        delay = settings.CXR_PACS_RETRY_BASE_SECONDS * 2**retries
        filing_unavailable(
            study_id=uuid.UUID(study_id), message=f"{error} Trying again in {delay} s.", retry_in=delay
        )
        raise self.retry(countdown=delay) from error
