"""Filing a received study's results back into the PACS it came from (C-STORE).

The only code that opens the sealed original identifiers: it builds the SR, the heatmap Secondary
Captures and the PDF with them, so that they file into the patient's study, and sends them. What
it records on the study (status, message) names statuses and counts, never an identifier.
"""

import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE

from pacs.exports import study_dicom_exports
from pacs.models import FilingStatus, ReceivedImage
from pacs.vault import OriginKeyError, origin_open
from studies.models import StudyStatus

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


def filing_record(received: ReceivedImage, status: FilingStatus, message: str = "") -> None:
    received.filing_status = status
    received.filing_message = message
    if status == FilingStatus.SENT:
        received.filed_at = timezone.now()
    received.save(update_fields=["filing_status", "filing_message", "filed_at", "filing_attempts"])


def study_results_file(*, study_id: uuid.UUID) -> None:
    """Send the study's results to the PACS; PacsUnavailableError when it cannot be reached."""
    received = ReceivedImage.objects.select_related("study").filter(study_id=study_id).first()
    if received is None or received.filing_status == FilingStatus.SENT:
        return
    if received.study.status != StudyStatus.DONE:
        filing_record(received, FilingStatus.NOT_SENT, f"The analysis ended {received.study.status}.")
        return
    destination = pacs_destination()
    if destination is None:
        filing_record(received, FilingStatus.NOT_SENT, "No PACS to send to: CXR_PACS_DESTINATION is not set.")
        return
    if received.sealed_origin is None:
        filing_record(
            received,
            FilingStatus.NOT_SENT,
            "The image's identifiers were not kept (CXR_ORIGIN_KEY was not set).",
        )
        return
    try:
        origin = origin_open(received.sealed_origin)
    except OriginKeyError as error:
        filing_record(received, FilingStatus.NOT_SENT, str(error))
        return
    datasets = study_dicom_exports(study=received.study, origin=origin)
    received.filing_attempts += 1
    filing_record(
        received,
        FilingStatus.SENDING,
        f"Sending {len(datasets)} objects (attempt {received.filing_attempts}).",
    )
    refused = c_store(destination, datasets)
    if refused:
        filing_record(
            received,
            FilingStatus.NOT_SENT,
            f"The PACS refused {len(refused)} of {len(datasets)} objects (statuses {', '.join(refused)}).",
        )
        return
    filing_record(received, FilingStatus.SENT, f"Sent {len(datasets)} objects to {destination.ae_title}.")
    logger.info("Results of study %s filed into %s", study_id, destination.ae_title)


def filing_unavailable(*, study_id: uuid.UUID, message: str, final: bool) -> None:
    """Record that the PACS could not be reached: waiting for a retry, or given up."""
    received = ReceivedImage.objects.filter(study_id=study_id).first()
    if received is not None:
        filing_record(received, FilingStatus.NOT_SENT if final else FilingStatus.SENDING, message)


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
