"""Reads for the hospital integration: whose study an image from a PACS becomes."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Case, Max, QuerySet, When

from common.jobs import JobStatus
from pacs.filing import pacs_destination
from pacs.models import ReceivedImage, ReceivedProtocol


@dataclass(frozen=True)
class DicomNode:
    kind: str
    ae_title: str
    host: str
    port: int | None
    configured: bool
    last_contact: datetime.datetime | None


def dicom_nodes() -> list[DicomNode]:
    """The listener and the PACS destination as configured, each with its last contact."""
    received = ReceivedImage.objects.filter(protocol=ReceivedProtocol.DIMSE).aggregate(
        last=Max("received_at")
    )
    sent = ReceivedImage.objects.filter(status=JobStatus.DONE).aggregate(last=Max("finished_at"))
    destination = pacs_destination()
    return [
        DicomNode(
            kind="listener",
            ae_title=settings.CXR_DICOM_AE_TITLE,
            host=settings.CXR_DICOM_HOST,
            port=settings.CXR_DICOM_PORT or None,
            configured=bool(settings.CXR_DICOM_PORT),
            last_contact=received["last"],
        ),
        DicomNode(
            kind="pacs",
            ae_title=destination.ae_title if destination else "",
            host=destination.host if destination else "",
            port=destination.port if destination else None,
            configured=destination is not None,
            last_contact=sent["last"],
        ),
    ]


def filing_queue() -> QuerySet[ReceivedImage]:
    """Received studies whose results have not gone back yet, failures first, then oldest first."""
    return ReceivedImage.objects.exclude(status=JobStatus.DONE).order_by(
        Case(When(status=JobStatus.FAILED, then=0), default=1),
        "received_at",
    )
