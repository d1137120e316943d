"""Writes on studies: creating one from an upload (the analysis itself is in studies.analysis)."""

import hashlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from common.dependencies import BROKER_ERRORS, retry_after_headers
from common.errors import DomainError
from ml.ct.intake import is_ct_series
from ml.errors import (
    ImageDecodeError,
    ImageError,
    ImageRejectedError,
    ImageTooLargeError,
    UnsupportedImageError,
)
from ml.images.deidentification import words_of
from ml.pipeline import Intake
from studies import storage
from studies.analysis import study_complete
from studies.ct import ct_cached_result_get, ct_study_complete
from studies.dispatch import enqueue_analysers, enqueue_analysis
from studies.inference import active_model_card, analysis_pipeline
from studies.models import Study, StudyKind, StudyStatus
from studies.result_cache import cached_result_get
from studies.selectors import studies_pending_count
from studies.uploads import DICOM, ZIP, ReceivedUpload, receive_upload

logger = logging.getLogger(__name__)


def study_create(*, owner: User, upload: UploadedFile) -> Study:
    """Store an upload as a new study, answered from the result cache or queued for analysis.

    The file goes through the pipeline's intake here, before anything is stored: a file that is
    not a frontal chest radiograph is refused at once with its reason, DICOM files are kept only
    de-identified, and the network's input is prepared once, so the worker only runs the model.
    If anything fails, the files already written are removed and no study row is left.
    """
    # A quick refusal before the file is read and decoded; the cap is checked again, under a lock,
    # where the study is inserted.
    check_pending_limit(owner=owner)
    return study_create_from_file(owner=owner, received=receive_upload(upload))


def study_create_from_file(*, owner: User, received: ReceivedUpload) -> Study:
    """A study from a file already read within the size limit: an upload, or an image a PACS sent
    (pacs.services). The pipeline's intake refuses it with its reason before anything is stored."""
    if is_ct_series(received.data):
        return ct_study_create(owner=owner, received=received)
    intake = intake_or_refuse(received.data, filename=received.filename)
    filename = stored_filename(received, intake)

    study_id = uuid.uuid4()
    image_sha256 = hashlib.sha256(received.data).hexdigest()
    cached = cached_result_get(card=active_model_card(), image_sha256=image_sha256)
    study = study_store(
        owner=owner,
        study_id=study_id,
        original=(storage.original_path(study_id, received.file_type.extension), intake.stored_bytes),
        display_png=intake.display_png(),
        model_input=intake.prepared.to_bytes() if cached is None else None,
        fields={
            "original_filename": filename,
            "content_type": received.file_type.content_type,
            "image_sha256": image_sha256,
            "width": intake.radiograph.width,
            "height": intake.radiograph.height,
            "image_metadata": intake.radiograph.metadata.to_dict(),
            "screening": intake.screening.to_dict(),
        },
        complete=(
            (lambda study: study_complete(study=study, result=cached, from_cache=True))
            if cached is not None
            else None
        ),
    )
    if cached is not None:
        analysers_enqueue(study=study)
    return study


def study_store(
    *,
    owner: User,
    study_id: uuid.UUID,
    original: tuple[str, bytes],
    display_png: bytes,
    model_input: bytes | None,
    fields: dict[str, Any],
    complete: Callable[[Study], None] | None,
) -> Study:
    """Write a study's files, insert its row under the pending cap, then either ``complete`` it (an
    answer from the result cache, inside the insert's transaction) or queue it for analysis.

    If anything fails, the files already written are removed and no study row is left.
    """
    written: list[str] = []
    try:
        written.append(storage.write_file(*original))
        written.append(storage.write_file(storage.display_path(study_id), display_png))
        if model_input is not None:
            written.append(storage.write_file(storage.model_input_path(study_id), model_input))
        with transaction.atomic():
            # Uploads of one user are serialised on their user row from the count to the insert,
            # so concurrent uploads cannot all pass the cap. Files are written before, so the lock
            # is held only for these few statements.
            User.objects.select_for_update().only("pk").get(pk=owner.pk)
            check_pending_limit(owner=owner)
            study = Study.objects.create(
                id=study_id,
                owner=owner,
                original_file=written[0],
                display_file=written[1],
                model_input_file=written[2] if model_input is not None else "",
                enqueued_at=timezone.now() if complete is None else None,
                **fields,
            )
            if complete is not None:
                complete(study)
        if complete is None:
            study_enqueue_or_withdraw(study=study)
    except BaseException:
        storage.delete_files(written)
        raise
    return study


def ct_study_create(*, owner: User, received: ReceivedUpload) -> Study:
    """A CT study (studies.ct) from a zip of slices or a CT DICOM: read, checked, de-identified and
    prepared by the pipeline's CT intake, then answered from the result cache or queued."""
    try:
        intake = analysis_pipeline().intake_ct(received.data)
    except ImageError as error:
        raise image_refusal(error, filename=received.filename) from error
    file_type = ZIP if intake.format == "zip" else DICOM
    filename = received.filename
    if words_of(filename) & intake.identifying_words:
        filename = f"ct-series.{file_type.extension}"
    study_id = uuid.uuid4()
    image_sha256 = hashlib.sha256(received.data).hexdigest()
    cached = ct_cached_result_get(card=analysis_pipeline().ct_card, sha256=image_sha256)
    return study_store(
        owner=owner,
        study_id=study_id,
        original=(storage.original_path(study_id, file_type.extension), intake.stored_bytes),
        display_png=intake.display_png,
        model_input=intake.prepared.to_bytes() if cached is None else None,
        fields={
            "kind": StudyKind.CT,
            "original_filename": filename,
            "content_type": file_type.content_type,
            "image_sha256": image_sha256,
            "width": intake.series.columns,
            "height": intake.series.rows,
            "image_metadata": intake.series.to_dict(),
        },
        complete=(
            (lambda study: ct_study_complete(study=study, card=cached[0], result=cached[1], from_cache=True))
            if cached is not None
            else None
        ),
    )


def study_enqueue_or_withdraw(*, study: Study) -> None:
    """Hand a committed study to the queue; with the broker down, withdraw it and answer 503.

    Enqueued after the commit (the worker must find the row), but not in an on-commit callback:
    here a broker outage can still be answered, and undone. Chosen over keeping the study queued
    for the reconciler: the clinician learns at once that nothing was accepted, and nothing waits
    on a broker whose return nobody can promise (README, reliability).
    """
    try:
        enqueue_analysis(study.id)
    except BROKER_ERRORS as error:
        logger.error("Broker unavailable; upload of study %s withdrawn: %s", study.id, error)
        study.delete()
        raise DomainError(
            "The analysis queue is unavailable, so the image was not accepted (nothing was stored). "
            "Try again in a minute.",
            status_code=503,
            extra={"dependency": "broker"},
            headers=retry_after_headers(),
        ) from error


def analysers_enqueue(*, study: Study) -> None:
    """Hand the analyser runs of a study answered from the cache to the queue.

    Its findings are already there, so a broker that is down does not refuse the upload: the runs
    stay queued and the reconciler hands them over when the broker is back.
    """
    try:
        enqueue_analysers(study.id)
    except BROKER_ERRORS as error:
        logger.warning("Analysers of study %s left for the reconciler: %s", study.id, error)


def check_pending_limit(*, owner: User) -> None:
    """Bound the studies one user may have waiting, so one batch cannot starve everyone else's."""
    pending = studies_pending_count(owner=owner)
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


def intake_or_refuse(data: bytes, *, filename: str) -> Intake:
    """The pipeline's intake of an upload, its refusals answered with their status and reason."""
    try:
        return analysis_pipeline().intake(data)
    except ImageError as error:
        raise image_refusal(error, filename=filename) from error


def image_refusal(error: ImageError, *, filename: str) -> DomainError:
    """The answer to an image the pipeline's intake refused: its status and reason."""
    status = next(code for kind, code in IMAGE_ERROR_STATUS if isinstance(error, kind))
    extra: dict[str, str] = {"filename": filename}
    if isinstance(error, ImageRejectedError):
        extra["reason"] = error.reason
        if error.tag:
            extra["tag"] = error.tag
    return DomainError(str(error), status_code=status, extra=extra)


def stored_filename(received: ReceivedUpload, intake: Intake) -> str:
    """The upload's name, unless it repeats a word of what de-identification left out of the file.

    Exports are often named after the patient or an identifier the file also holds (a DICOM
    Patient ID, an EXIF Artist): such a name is replaced by a neutral one. A name that appears only
    in the file name cannot be told from a description and is kept (README, input safety).
    """
    if words_of(received.filename) & intake.identifying_words:
        return f"radiograph.{received.file_type.extension}"
    return received.filename


def studies_fail_interrupted(*, message: str) -> int:
    """Fail studies that an embedded-mode process left queued or running when it stopped."""
    return Study.objects.filter(status__in=[StudyStatus.QUEUED, StudyStatus.RUNNING]).update(
        status=StudyStatus.FAILED, finished_at=timezone.now(), message=message
    )
