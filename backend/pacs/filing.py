"""Filing a received study's results back into the PACS it came from (C-STORE).

The only code that opens the sealed original identifiers: it builds the SR, the heatmap Secondary
Captures and the PDF with them, so that they file into the patient's study, and sends them. What
it records on the study (status, message) names statuses and counts, never an identifier.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE

from common.errors import DomainError
from common.jobs import (
    JobStatus,
    job_claim,
    job_done,
    job_enqueue,
    job_enqueued,
    job_fail,
    job_kind_of,
    job_save,
)
from pacs.exports import study_dicom_exports
from pacs.models import ReceivedImage
from pacs.origin import results_identity
from pacs.supersede import filed_object, predecessors_mark, superseded_remove
from pacs.vault import OriginKeyError, origin_open
from studies.models import Study

logger = logging.getLogger(__name__)


class PacsUnavailableError(Exception):
    """The PACS could not be reached; sending again later may work."""


@dataclass(frozen=True)
class Destination:
    ae_title: str
    host: str
    port: int


def pacs_destination() -> Destination | None:
    """CXR_PACS_DESTINATION as "AE_TITLE@host:port", or None when it is not set or malformed."""
    ae_title, _, address = settings.CXR_PACS_DESTINATION.partition("@")
    host, _, port = address.rpartition(":")
    if not (ae_title and host and port.isdigit()):
        return None
    return Destination(ae_title=ae_title, host=host, port=int(port))


def study_results_file(*, study_id: uuid.UUID, claimant: str = "") -> None:
    """Send the study's current results to the PACS; PacsUnavailableError when it cannot be reached.

    A filing that sent these very results is left alone; one that failed is sent again (an admin's
    re-filing, ``manage.py refile_results``). What cannot be sent at all fails the job with why.
    One filing of a study sends at a time (its claim): a filing that another task is sending is
    left to it, and that task, once its objects are sent, files newer results itself
    (``filing_settle``), so the last results stored are the ones filed.
    """
    with transaction.atomic():
        received = (
            ReceivedImage.objects.select_for_update()
            .select_related("study")
            .filter(study_id=study_id)
            .first()
        )
        if received is None or (
            received.status == JobStatus.DONE and received.filed_results == results_identity(received.study)
        ):
            return
        if received.status == JobStatus.RUNNING and received.claimed_by not in ("", claimant):
            # Another task is sending it; should its worker die, the reconciler hands it over.
            return
        reason = unsendable_reason(received)
        if reason:
            job_fail(received, message=reason)
            return
        job_claim(received, claimant=claimant)
    destination = pacs_destination()
    assert destination is not None and received.sealed_origin is not None  # unsendable_reason said so
    try:
        origin = origin_open(received.sealed_origin)
    except OriginKeyError as error:
        job_fail(received, message=str(error))
        return
    results = results_identity(received.study)
    try:
        datasets = study_dicom_exports(study=received.study, origin=origin)
    except DomainError:
        if results_current(study_id=study_id, results=results):
            raise
        # The study is being analysed again since the claim: it has no results to export now.
        datasets = []
    if not datasets or not results_current(study_id=study_id, results=results):
        # The study changed while its objects were made: they may mix two analyses, so none goes.
        filing_settle(received, results=results, sent=None, done_message="")
        return
    predecessors_mark(datasets, previous=received.filed_objects)
    received.message = f"Sending {len(datasets)} objects (attempt {received.attempts})."
    ReceivedImage.objects.filter(pk=received.pk, status=JobStatus.RUNNING).update(message=received.message)
    refused = c_store(destination, datasets)
    if refused:
        statuses = ", ".join(refused)
        job_fail(
            received,
            message=f"The PACS refused {len(refused)} of {len(datasets)} objects (statuses {statuses}).",
        )
        return
    sent = [filed_object(dataset) for dataset in datasets]
    replaced = filing_settle(
        received,
        results=results,
        sent=sent,
        done_message=f"Sent {len(datasets)} objects to {destination.ae_title}.",
    )
    removed = superseded_remove(previous=replaced, current=sent)
    logger.info(
        "Results of study %s filed into %s (%s superseded objects removed)",
        study_id,
        destination.ae_title,
        removed,
    )


def results_current(*, study_id: uuid.UUID, results: str) -> bool:
    """Whether the study still holds the results whose identity is ``results``."""
    study = Study.objects.filter(pk=study_id).only("status", "finished_at").first()
    return study is not None and study.status == JobStatus.DONE and results_identity(study) == results


def filing_settle(
    received: ReceivedImage, *, results: str, sent: list[dict[str, str]] | None, done_message: str
) -> list[dict[str, str]]:
    """End a claimed filing by what the study holds now, never by what it held when the filing began.

    ``sent`` is what the PACS took (None: nothing was sent); it is recorded as the PACS's set, and
    the set it replaced is returned, to be removed. The filing is done if the study still holds
    ``results``; if an image joined the study meanwhile it waits for that analysis
    (studies.events.study_finished hands it over again), and if newer results were stored it is
    handed to the queue at once.
    """
    with transaction.atomic():
        current = ReceivedImage.objects.select_for_update().select_related("study").get(pk=received.pk)
        replaced: list[dict[str, str]] = []
        if sent is not None:
            replaced, current.filed_objects, current.filed_results = current.filed_objects, sent, results
            current.save(update_fields=["filed_objects", "filed_results"])
        if current.status != JobStatus.RUNNING or current.claimed_by != received.claimed_by:
            # The reconciler handed it over meanwhile: its new state is not this task's to end.
            return replaced
        study = current.study
        if study.status == JobStatus.DONE and results_identity(study) == results:
            job_done(current, message=done_message)
        elif study.status == JobStatus.FAILED:
            job_fail(current, message=f"The analysis ended {study.status}.")
        elif study.status == JobStatus.DONE:
            job_enqueued(current)
            current.attempts = 0
            current.message = "Newer results were stored while sending: sending them."
            job_save(current)
            job_enqueue(job_kind_of(ReceivedImage).task, str(current.study_id))
        else:
            job_enqueued(current)
            current.enqueued_at = None
            current.attempts = 0
            current.message = "An image joined the study while sending: waiting for its analysis."
            job_save(current)
    return replaced


def unsendable_reason(received: ReceivedImage) -> str:
    """Why the study's results cannot be sent at all (no attempt would help), or ""."""
    if received.study.status != JobStatus.DONE:
        return f"The analysis ended {received.study.status}."
    if pacs_destination() is None:
        return "No PACS to send to: CXR_PACS_DESTINATION is not set."
    if received.sealed_origin is None:
        return "The image's identifiers were not kept (CXR_ORIGIN_KEY was not set)."
    return ""


def filing_unavailable(*, study_id: uuid.UUID, message: str, retry_in: int | None) -> None:
    """Record that the PACS could not be reached: queued again, due in ``retry_in`` seconds (the
    reconciler's queued deadline counts from then), or given up when ``retry_in`` is None."""
    received = ReceivedImage.objects.filter(study_id=study_id).first()
    if received is None:
        return
    if retry_in is None:
        job_fail(received, message=message)
        return
    received.status = JobStatus.QUEUED
    received.enqueued_at = timezone.now() + timedelta(seconds=retry_in)
    received.claimed_by = ""
    received.message = message
    job_save(received)


def c_store(destination: Destination, datasets: list[Dataset]) -> list[str]:
    """Send the objects on one association; the failure statuses of those the PACS refused."""
    entity = AE(ae_title=settings.CXR_DICOM_AE_TITLE)
    for sop_class in dict.fromkeys(dataset.SOPClassUID for dataset in datasets):
        entity.add_requested_context(sop_class, ExplicitVRLittleEndian)
    association = entity.associate(destination.host, destination.port, ae_title=destination.ae_title)
    if not association.is_established:
        raise PacsUnavailableError(
            f"The PACS {destination.ae_title} at {destination.host}:{destination.port} "
            "did not accept an association."
        )
    refused = []
    try:
        for dataset in datasets:
            answer = association.send_c_store(dataset)
            status = int(answer.Status) if "Status" in answer else None
            if status is None:
                raise PacsUnavailableError(f"The PACS {destination.ae_title} stopped answering.")
            # Warnings (0xB000, 0xB007, 0xB006) still store the object.
            if status != 0 and status >> 12 != 0xB:
                refused.append(f"0x{status:04X}")
    finally:
        association.release()
    return refused
