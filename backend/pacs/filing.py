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

from common.jobs import JobStatus, job_claim, job_done, job_fail, job_save
from pacs.exports import study_dicom_exports
from pacs.models import ReceivedImage
from pacs.vault import OriginKeyError, origin_open

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
    """Send the study's results to the PACS; PacsUnavailableError when it cannot be reached.

    A filing already sent is left alone; one that failed is sent again (an admin's re-filing,
    ``manage.py refile_results``). What cannot be sent at all fails the job with why.
    """
    with transaction.atomic():
        received = (
            ReceivedImage.objects.select_for_update()
            .select_related("study")
            .filter(study_id=study_id)
            .first()
        )
        if received is None or received.status == JobStatus.DONE:
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
    datasets = study_dicom_exports(study=received.study, origin=origin)
    received.message = f"Sending {len(datasets)} objects (attempt {received.attempts})."
    job_save(received)
    refused = c_store(destination, datasets)
    if refused:
        statuses = ", ".join(refused)
        job_fail(
            received,
            message=f"The PACS refused {len(refused)} of {len(datasets)} objects (statuses {statuses}).",
        )
        return
    job_done(received, message=f"Sent {len(datasets)} objects to {destination.ae_title}.")
    logger.info("Results of study %s filed into %s", study_id, destination.ae_title)


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
