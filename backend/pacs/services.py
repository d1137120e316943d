"""Writes for images a PACS sends: each goes through the same intake as an upload.

The first image of a PACS study (by its Study Instance UID, kept only as a keyed hash) becomes a
study; later images of it for the same account join that study, which is then analysed again. An
image is refused for the same reasons as an upload (not DICOM, too large, not a chest radiograph,
a lateral without a frontal image, too many studies waiting), and both what is stored and what is
refused are audited, with the protocol and the calling AE title but none of the image's identifiers.
"""

import hashlib
import hmac
from typing import Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from pydicom.dataset import Dataset

from accounts.models import User
from audit.models import AuditAction
from audit.services import audit_record
from common.errors import DomainError
from common.jobs import JobStatus
from pacs.models import ReceivedImage, ReceivedProtocol
from pacs.vault import OriginKeyError, origin_of, origin_seal
from studies.events import study_finished_announce
from studies.grouping import dicom_study_uid
from studies.models import Study, StudyStatus
from studies.services import check_pending_limit, study_create_from_file, study_image_add
from studies.upload_limits import upload_too_large
from studies.uploads import DICOM, ReceivedUpload, sniff

RECEIVED_FILENAME = "radiograph.dcm"


def pacs_received(data: bytes) -> ReceivedUpload:
    """What a PACS sent, as the upload ``received_image_store`` checks (size, DICOM) and takes in; its
    one parse (``dataset``) also answers STOW-RS's reference of the instance (pacs.stow)."""
    return ReceivedUpload(filename=RECEIVED_FILENAME, file_type=DICOM, data=data)


def received_image_store(
    *,
    received: ReceivedUpload,
    owner: User,
    protocol: ReceivedProtocol,
    calling_ae_title: str = "",
    request: HttpRequest | None = None,
) -> Study:
    """Make a study of a DICOM image a PACS sent; a refusal raises DomainError as an upload's would."""
    audit_detail: dict[str, Any] = {"protocol": protocol.value, "calling_ae_title": calling_ae_title}
    try:
        if len(received.data) > settings.CXR_MAX_UPLOAD_BYTES:
            raise upload_too_large(len(received.data))
        if sniff(received.data) != DICOM:
            raise DomainError("Not a DICOM file.", status_code=415, extra={"reason": "unreadable"})
        group = study_group(received)
        with transaction.atomic():
            study_group_lock(group)
            joined = study_of_group(owner=owner, group=group)
            if joined is not None:
                study = study_image_add(study=joined, received=received)
                audit_detail["joined"] = True
                # Its results go back again once the study is analysed with the new image. A
                # filing being sent is left to its task, which sees the study changed when it ends
                # (pacs.filing.filing_settle): two tasks never send one study's results at once.
                ReceivedImage.objects.filter(study=study).exclude(status=JobStatus.RUNNING).update(
                    status=JobStatus.QUEUED,
                    attempts=0,
                    requeues=0,
                    enqueued_at=None,
                    started_at=None,
                    finished_at=None,
                    claimed_by="",
                    message="",
                )
            else:
                check_pending_limit(owner=owner)
                study = study_create_from_file(owner=owner, received=received)
                ReceivedImage.objects.create(
                    study=study,
                    protocol=protocol,
                    calling_ae_title=calling_ae_title,
                    study_group=group,
                    # A study was made of it, so the intake read the file as DICOM.
                    **sealed_origin(cast(Dataset, received.dataset)),
                )
            if study.status == StudyStatus.DONE:
                # Answered from the result cache: its results go back once its analyser runs end
                # (studies.events.study_finished), at once when none is configured.
                study_finished_announce(study.id)
    except DomainError as error:
        audit_record(
            action=AuditAction.STUDY_UPLOAD,
            request=request,
            actor=owner,
            target_type="dicom",
            detail={
                **audit_detail,
                "refused": error.message,
                "status": error.status_code,
                "reason": error.extra.get("reason", ""),
            },
        )
        raise
    audit_record(
        action=AuditAction.STUDY_UPLOAD,
        request=request,
        actor=owner,
        target_type="study",
        target_id=study.id,
        detail={**audit_detail, "cached": study.from_cache},
    )
    return study


def sealed_origin(dataset: Dataset) -> dict[str, Any]:
    """The image's original identifiers, encrypted; without a key, none, and why results cannot go back."""
    try:
        return {"sealed_origin": origin_seal(origin_of(dataset))}
    except OriginKeyError as error:
        return {
            "sealed_origin": None,
            "status": JobStatus.FAILED,
            "finished_at": timezone.now(),
            "message": f"Results cannot be filed back: {error}",
        }


def study_group(received: ReceivedUpload) -> str:
    """A keyed hash of the image's Study Instance UID: equal for images of one PACS study."""
    study_uid = dicom_study_uid(received)
    if not study_uid:
        return ""
    return hmac.new(settings.SECRET_KEY.encode(), study_uid.encode(), hashlib.sha256).hexdigest()


def study_group_lock(group: str) -> None:
    """Take images of one PACS study one at a time until the transaction ends.

    A modality sends a study's images over parallel associations; without this, two of them could
    each find no study yet and make two. The lock is PostgreSQL's (the embedded SQLite mode takes
    one write at a time anyway).
    """
    if group and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [group])


def study_of_group(*, owner: User, group: str) -> Study | None:
    """The study an earlier image of this PACS study became for ``owner``, if any is left."""
    if not group:
        return None
    received = (
        ReceivedImage.objects.filter(study_group=group, study__owner=owner)
        .select_related("study")
        .order_by("-received_at")
        .first()
    )
    return received.study if received is not None else None
