"""The images of a study: taken in through the pipeline's intake, stored, and ready for the worker.

A study holds one or more radiographs of one patient and visit (a frontal and a lateral, or a
series). Every file goes through the intake on its own; a DICOM lateral is taken in only beside a
frontal image, stored de-identified and shown, but not analysed: the classifier, the segmentation
and the screener read frontal views only.
"""

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.dispatch import Signal

from common.errors import DomainError
from ml.errors import (
    ImageDecodeError,
    ImageError,
    ImageRejectedError,
    ImageTooLargeError,
    UnsupportedImageError,
)
from ml.images.deidentification import words_of
from ml.pipeline import Intake, Pipeline
from studies import storage
from studies.grouping import check_one_dicom_study
from studies.inference import intake_models
from studies.models import ImageView, StudyImage
from studies.patients import study_patient_key
from studies.result_cache import CachedResult, cached_result_get
from studies.uploads import ReceivedUpload

# Sent, with ``reason``, for each radiograph the intake's screening refused (never stored, so
# counted by whoever subscribes: monitoring's refusal rate of the day).
image_refused = Signal()

NOT_ANALYSED_LATERAL = (
    "Lateral view: the classifier, the segmentation and the screener read frontal views only."
)

# How each kind of unreadable or unacceptable image is answered.
IMAGE_ERROR_STATUS: tuple[tuple[type[ImageError], int], ...] = (
    (ImageTooLargeError, 413),
    (UnsupportedImageError, 415),
    (ImageDecodeError, 400),
    (ImageRejectedError, 422),
)


@dataclass(frozen=True)
class AcceptedImage:
    """A file the intake accepted, with the name it may be stored under and its content's hash."""

    received: ReceivedUpload
    intake: Intake
    filename: str
    sha256: str

    @property
    def lateral(self) -> bool:
        return self.intake.lateral


@dataclass(frozen=True)
class ImageFiles:
    original: str
    display: str
    model_input: str


@dataclass(frozen=True)
class StoredImages:
    """The images of a new study, taken in and written to storage: their rows (unsaved), the key
    image among them, and each analysed image's result from the cache when every one had it."""

    rows: list[StudyImage]
    key_image: StudyImage
    cached: dict[int, CachedResult] | None
    # The study's patient (studies.patients), or empty when nothing named one.
    patient_key: str


def images_store(
    received: Sequence[ReceivedUpload],
    *,
    refused_before: Sequence[DomainError] = (),
    patient_reference: str = "",
    study_id: uuid.UUID,
    written: list[str],
) -> StoredImages:
    """Take in the files of a new study (or refuse them all), look each analysed one up in the
    result cache and write every image's files, with the network's inputs unless the cache answers.

    The one entry from the upload to the stored images; each path written is appended to
    ``written`` as soon as it exists, so the caller can remove them all if anything after fails.
    """
    pipeline, card = intake_models()
    images = images_accept(received, pipeline=pipeline, refused_before=refused_before)
    # Checked once every file is known to be a radiograph of one study: a refusal says why it
    # cannot be one patient's, not that a file is unreadable.
    patient_key = study_patient_key(received, reference=patient_reference)
    cached = {
        position: cached_result_get(card=card, image_sha256=image.sha256)
        for position, image in enumerate(images)
        if not image.lateral
    }
    # Answered from the cache only when every analysed image is; otherwise the worker analyses all.
    every_cached = {position: result for position, result in cached.items() if result is not None}
    from_cache = len(every_cached) == len(cached)
    rows = [
        study_image_build(
            study_id=study_id,
            position=position,
            image=image,
            files=image_files_write(
                study_id=study_id,
                position=position,
                image=image,
                with_model_input=not from_cache,
                written=written,
            ),
        )
        for position, image in enumerate(images)
    ]
    return StoredImages(
        rows=rows,
        key_image=key_image_of(rows),
        cached=every_cached if from_cache else None,
        patient_key=patient_key,
    )


def intake_or_refuse(received: ReceivedUpload, *, pipeline: Pipeline, accept_lateral: bool) -> Intake:
    """The pipeline's intake of an upload, its refusals answered with their status and reason."""
    try:
        return pipeline.radiograph_intake(
            received.data, dataset=received.dataset, accept_lateral=accept_lateral
        )
    except ImageError as error:
        if isinstance(error, ImageRejectedError):
            image_refused.send(sender=Pipeline, reason=error.reason)
        raise image_refusal(error, filename=received.filename) from error


def image_refusal(error: ImageError, *, filename: str) -> DomainError:
    """The answer to a file the pipeline's intake refused (a radiograph's or a CT series'): its
    status and reason."""
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


def image_accept(received: ReceivedUpload, *, pipeline: Pipeline, accept_lateral: bool) -> AcceptedImage:
    intake = intake_or_refuse(received, pipeline=pipeline, accept_lateral=accept_lateral)
    return AcceptedImage(
        received=received,
        intake=intake,
        filename=stored_filename(received, intake),
        sha256=hashlib.sha256(received.data).hexdigest(),
    )


def images_accept(
    received: Sequence[ReceivedUpload], *, pipeline: Pipeline, refused_before: Sequence[DomainError]
) -> list[AcceptedImage]:
    """Take in the files of one new study, or refuse them all (nothing is stored either way here).

    One file is taken in as always (a lateral refused). Several must be one study (DICOM files of
    one Study Instance UID) with a frontal image among them; each refused file, with those
    ``refused_before`` (unreadable uploads), is named in the answer's ``extra.refused`` with its
    own status and reason. (Their count was checked where they were received, studies.uploads.)
    """
    total = len(received) + len(refused_before)
    if total == 1:
        return [image_accept(received[0], pipeline=pipeline, accept_lateral=False)]
    check_one_dicom_study(received)
    accepted: list[AcceptedImage] = []
    refused = list(refused_before)
    for upload in received:
        try:
            accepted.append(image_accept(upload, pipeline=pipeline, accept_lateral=True))
        except DomainError as error:
            refused.append(error)
    if refused:
        raise files_refused(refused, total=total)
    if all(image.lateral for image in accepted):
        raise DomainError(
            "A study needs a frontal (PA or AP) image: lateral views are kept only beside one.",
            status_code=422,
            extra={"reason": "lateral views only", "tag": "(0018,5101) View Position"},
        )
    return accepted


def files_refused(refused: Sequence[DomainError], *, total: int) -> DomainError:
    """One answer for the refused files of an upload: the first one's status, every file's reason."""
    first = refused[0]
    return DomainError(
        f"{len(refused)} of {total} files were refused, so nothing was stored. "
        f"{first.extra.get('filename', 'A file')}: {first.message}",
        status_code=first.status_code,
        extra={
            "refused": [
                {**error.extra, "status": error.status_code, "message": error.message} for error in refused
            ]
        },
    )


def key_image_of(images: Sequence[StudyImage]) -> StudyImage:
    """The study's key image: its first analysed (frontal) one (an accepted study always has one)."""
    return next(image for image in sorted(images, key=lambda image: image.position) if image.analysed)


def image_files_write(
    *, study_id: uuid.UUID, position: int, image: AcceptedImage, with_model_input: bool, written: list[str]
) -> ImageFiles:
    """Write an image's stored copy, its display PNG and (when it will be analysed) the network's input.

    Each path is appended to ``written`` as soon as it exists, so a caller can remove them all if
    anything after fails.
    """
    extension = image.received.file_type.extension
    original = storage.write_file(
        storage.original_path(study_id, extension, position), image.intake.stored_bytes
    )
    written.append(original)
    display = storage.write_file(storage.display_path(study_id, position), image.intake.display_png())
    written.append(display)
    model_input = ""
    if with_model_input and not image.lateral:
        model_input = storage.write_file(
            storage.model_input_path(study_id, position), image.intake.prepared.to_bytes()
        )
        written.append(model_input)
    return ImageFiles(original=original, display=display, model_input=model_input)


def study_image_build(
    *, study_id: uuid.UUID, position: int, image: AcceptedImage, files: ImageFiles
) -> StudyImage:
    """The StudyImage row of an accepted image (unsaved)."""
    return StudyImage(
        study_id=study_id,
        position=position,
        original_filename=image.filename,
        content_type=image.received.file_type.content_type,
        image_sha256=image.sha256,
        width=image.intake.radiograph.width,
        height=image.intake.radiograph.height,
        original_file=files.original,
        display_file=files.display,
        model_input_file=files.model_input,
        image_metadata=image.intake.radiograph.metadata.to_dict(),
        screening=image.intake.screening.to_dict() if image.intake.screening is not None else None,
        view=ImageView.LATERAL if image.lateral else ImageView.FRONTAL,
        analysed=not image.lateral,
        not_analysed_reason=NOT_ANALYSED_LATERAL if image.lateral else "",
    )
