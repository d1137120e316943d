"""Filing results back into the PACS as a kind of background work (common.jobs), and handing it over.

A received study's filing is queued when its image arrives and handed to the queue once the study
is analysed (``file_results_enqueue``, the receiver of studies.events.study_finished). With a
broker the task retries while the PACS is down (pacs.tasks); the reconciler hands over a filing
whose message was lost or whose worker died, and fails it with the kind's message after as many
attempts as the task would make. A failed filing can be sent again (``filings_requeue``).
"""

import uuid
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from common.jobs import (
    JobKind,
    JobStatus,
    Limits,
    default_limits,
    job_enqueue,
    job_enqueued,
    job_kind_register,
    job_save,
)
from pacs.filing import PacsUnavailableError, filing_unavailable, study_results_file
from pacs.models import ReceivedImage

FILE_RESULTS = "pacs.file_results"


def file_results_enqueue(*, study_id: uuid.UUID, **_: Any) -> None:
    """Hand the filing of a finished study's results to the queue, for studies a PACS sent (uploads
    have no PACS); the receiver of studies.events.study_finished (its sender and signal unused)."""
    filings = ReceivedImage.objects.filter(study_id=study_id)
    if not filings.exists():
        return
    filings.filter(status=JobStatus.QUEUED, enqueued_at__isnull=True).update(enqueued_at=timezone.now())
    job_enqueue(FILE_RESULTS, str(study_id))


def signed_report_refile(*, study_id: uuid.UUID, **_: Any) -> None:
    """File a study's results again once its report is signed (reports.events.report_signed): the
    SR, PDF and their UIDs carry the signature. Only a filing that was sent goes again; one queued
    or being sent reads the signed report when it sends (``filing_settle`` hands newer results
    on), and a failed one waits for an admin's re-filing, as any failure does."""
    with transaction.atomic():
        filed = list(
            ReceivedImage.objects.select_for_update().filter(study_id=study_id, status=JobStatus.DONE)
        )
        for received in filed:
            job_enqueued(received)
            received.attempts = 0
            job_save(received)
        if filed:
            job_enqueue(FILE_RESULTS, str(study_id))


def filings_requeue(filings: QuerySet[ReceivedImage]) -> list[uuid.UUID]:
    """Send failed filings of analysed studies again (an admin's choice, after the PACS is fixed);
    returns their studies. Filings that cannot be sent at all fail again, saying why."""
    with transaction.atomic():
        failed = list(
            filings.select_for_update().filter(status=JobStatus.FAILED, study__status=JobStatus.DONE)
        )
        for received in failed:
            job_enqueued(received)
            received.requeues = 0
            job_save(received)
            job_enqueue(FILE_RESULTS, str(received.study_id))
    return [received.study_id for received in failed]


def file_results_embedded(study_id: str) -> None:
    """Embedded mode (no broker) has no delayed retries: one attempt, then an admin re-files."""
    try:
        study_results_file(study_id=uuid.UUID(study_id))
    except PacsUnavailableError as error:
        filing_unavailable(
            study_id=uuid.UUID(study_id),
            message=f"{error} Not retried without a broker: send it again with manage.py refile_results.",
            retry_in=None,
        )


def filing_limits() -> Limits:
    # As many attempts as the task makes (its first and its retries).
    return replace(default_limits(), max_attempts=settings.CXR_PACS_SEND_RETRIES + 1)


FILING = JobKind(
    name="filing",
    model=ReceivedImage,
    task=FILE_RESULTS,
    task_args=lambda received: (str(received.study_id),),
    embedded=file_results_embedded,
    thread="filing",
    gave_up_waiting=(
        "The results waited too long to be sent to the PACS (the service may have been down); "
        "an administrator can send them again (manage.py refile_results)."
    ),
    gave_up_interrupted=(
        "Sending the results to the PACS was interrupted {attempts} times (the worker stopped); "
        "an administrator can send them again (manage.py refile_results)."
    ),
    limits=filing_limits,
    waits_before_handover=True,
)
job_kind_register(FILING)
