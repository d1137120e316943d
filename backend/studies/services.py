"""Writes on studies: creating one from an upload, and analysing it."""

import hashlib
import logging
import uuid
from dataclasses import asdict

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from common.errors import DomainError
from ml.errors import (
    ImageDecodeError,
    ImageError,
    ImageRejectedError,
    ImageTooLargeError,
    UnsupportedImageError,
)
from ml.images.decoding import decode_radiograph
from ml.images.dicom import deidentified_copy, identifying_values
from ml.images.radiograph import Radiograph
from ml.images.rendering import heatmap_png, radiograph_png
from ml.images.screening import Screening, screen_radiograph
from studies import storage
from studies.dispatch import enqueue_analysis
from studies.inference import active_model_card, get_engine
from studies.models import Finding, Study, StudyStatus
from studies.result_cache import CachedFinding, CachedResult, cached_result_get, cached_result_put
from studies.uploads import DICOM, ReceivedUpload, receive_upload

logger = logging.getLogger(__name__)


def study_create(*, owner: User, upload: UploadedFile) -> Study:
    """Store an upload as a new study, answered from the result cache or queued for analysis.

    The file is decoded and screened here, before anything is stored, so a file that is not a
    frontal chest radiograph is refused at once with its reason. DICOM files are stored only
    de-identified. If anything fails, the files already written are removed and no study row
    is left.
    """
    check_pending_limit(owner=owner)
    received = receive_upload(upload)
    radiograph, screening = read_radiograph(received.data, filename=received.filename)
    stored_bytes, filename = received.data, received.filename
    if received.file_type == DICOM:
        stored_bytes, filename = deidentified_copy(received.data), dicom_safe_filename(received)

    study_id = uuid.uuid4()
    image_sha256 = hashlib.sha256(received.data).hexdigest()
    card = active_model_card()
    written: list[str] = []
    try:
        written.append(
            storage.write_file(storage.original_path(study_id, received.file_type.extension), stored_bytes)
        )
        written.append(storage.write_file(storage.display_path(study_id), radiograph_png(radiograph)))
        cached = cached_result_get(card=card, image_sha256=image_sha256)
        with transaction.atomic():
            study = Study.objects.create(
                id=study_id,
                owner=owner,
                original_filename=filename,
                content_type=received.file_type.content_type,
                image_sha256=image_sha256,
                width=radiograph.width,
                height=radiograph.height,
                original_file=written[0],
                display_file=written[1],
                image_metadata=radiograph.metadata.to_dict(),
                screening=screening.to_dict(),
            )
            if cached is None:
                transaction.on_commit(lambda: enqueue_analysis(study_id))
            else:
                study_complete(study=study, result=cached, from_cache=True)
    except BaseException:
        storage.delete_files(written)
        raise
    return study


def check_pending_limit(*, owner: User) -> None:
    """Bound the studies one user may have waiting, so one batch cannot starve everyone else's."""
    pending = Study.objects.filter(owner=owner, status__in=[StudyStatus.QUEUED, StudyStatus.RUNNING]).count()
    limit = settings.CXR_MAX_PENDING_STUDIES_PER_USER
    if pending >= limit:
        raise DomainError(
            f"You already have {pending} studies waiting for analysis (the limit is {limit}); "
            "upload more when some have finished.",
            status_code=429,
            extra={"pending": pending, "limit": limit},
            headers={"Retry-After": str(settings.CXR_PENDING_RETRY_AFTER_SECONDS)},
        )


# How each kind of unreadable or unacceptable image is answered.
IMAGE_ERROR_STATUS: tuple[tuple[type[ImageError], int], ...] = (
    (ImageTooLargeError, 413),
    (UnsupportedImageError, 415),
    (ImageDecodeError, 400),
    (ImageRejectedError, 422),
)


def read_radiograph(data: bytes, *, filename: str) -> tuple[Radiograph, Screening]:
    """Decode and screen an image, as both the upload and the analysis do: the same pixels for both."""
    try:
        return screen_radiograph(decode_radiograph(data))
    except ImageError as error:
        status = next(code for kind, code in IMAGE_ERROR_STATUS if isinstance(error, kind))
        extra: dict[str, str] = {"filename": filename}
        if isinstance(error, ImageRejectedError):
            extra["reason"] = error.reason
            if error.tag:
                extra["tag"] = error.tag
        raise DomainError(str(error), status_code=status, extra=extra) from error


def dicom_safe_filename(received: ReceivedUpload) -> str:
    """The upload's name, unless it holds one of the file's identifiers (exports named by patient or UID)."""
    lowered = received.filename.lower()
    if any(len(value) >= 4 and value.lower() in lowered for value in identifying_values(received.data)):
        return "radiograph.dcm"
    return received.filename


def study_analyze(*, study_id: uuid.UUID) -> None:
    """Run the model on a queued study and store its findings and heatmaps.

    Safe to run again for the same study (a redelivered task): a finished study is left alone, and a
    study whose analyses keep dying is failed rather than retried forever.
    """
    study = study_claim_for_analysis(study_id=study_id)
    if study is None:
        return
    try:
        radiograph, _ = read_radiograph(
            storage.read_file(study.original_file.name), filename=study.original_filename
        )
        engine = get_engine()
        analysis = engine.analyze(radiograph)
        findings = [
            CachedFinding(
                label=label,
                probability=probability,
                threshold=engine.card.thresholds[label],
                positive=probability >= engine.card.thresholds[label],
                heatmap_file=storage.write_file(
                    storage.heatmap_path(study.id, label), heatmap_png(analysis.heatmaps[label])
                ),
            )
            for label, probability in analysis.probabilities.items()
        ]
        result = CachedResult(model_card=engine.card.to_dict(), findings=tuple(findings))
        with transaction.atomic():
            study.findings.all().delete()
            study_complete(study=study, result=result, from_cache=False)
        cached_result_put(card=active_model_card(), image_sha256=study.image_sha256, result=result)
    except DomainError as error:
        study_fail(study=study, message=f"Analysis failed: {error.message}")
    except SoftTimeLimitExceeded:
        study_fail(
            study=study, message=f"Analysis took longer than {settings.CELERY_TASK_SOFT_TIME_LIMIT} s."
        )
    except Exception as error:
        logger.exception("Analysis of study %s failed", study.id)
        study_fail(study=study, message=f"Analysis failed: {error}")


def study_claim_for_analysis(*, study_id: uuid.UUID) -> Study | None:
    with transaction.atomic():
        study = Study.objects.select_for_update().filter(pk=study_id).first()
        if study is None:
            logger.warning("Study %s no longer exists; nothing to analyse", study_id)
            return None
        if study.status in (StudyStatus.DONE, StudyStatus.FAILED):
            return None
        if study.attempts >= settings.CXR_MAX_ANALYSIS_ATTEMPTS:
            study_fail(
                study=study,
                message=f"Analysis was interrupted {study.attempts} times (the worker stopped); giving up.",
            )
            return None
        study.attempts += 1
        study.status = StudyStatus.RUNNING
        study.started_at = timezone.now()
        study.message = ""
        study.save(update_fields=["attempts", "status", "started_at", "message"])
    return study


def study_complete(*, study: Study, result: CachedResult, from_cache: bool) -> None:
    Finding.objects.bulk_create(Finding(study=study, **asdict(finding)) for finding in result.findings)
    study.status = StudyStatus.DONE
    study.finished_at = timezone.now()
    if from_cache:
        study.started_at = study.finished_at
    study.model_card = result.model_card
    study.from_cache = from_cache
    study.save(update_fields=["status", "started_at", "finished_at", "model_card", "from_cache"])


def study_fail(*, study: Study, message: str) -> None:
    study.status = StudyStatus.FAILED
    study.finished_at = timezone.now()
    study.message = message
    study.save(update_fields=["status", "finished_at", "message"])


def studies_fail_interrupted(*, message: str) -> int:
    """Fail studies that an embedded-mode process left queued or running when it stopped."""
    return Study.objects.filter(status__in=[StudyStatus.QUEUED, StudyStatus.RUNNING]).update(
        status=StudyStatus.FAILED, finished_at=timezone.now(), message=message
    )
