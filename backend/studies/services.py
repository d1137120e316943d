"""Writes on studies: creating one from uploaded files (the analysis itself is in studies.analysis)."""

import hashlib
import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from audit.models import AuditAction
from audit.services import audit_record
from common.dependencies import BROKER_ERRORS, retry_after_headers
from common.errors import DomainError
from common.jobs import job_enqueued, job_save, jobs_fail
from ml.ct.card import CT_KIND
from ml.errors import ImageError
from ml.images.deidentification import words_of
from studies import storage
from studies.analysis import study_complete
from studies.ct import ct_cached_result_get, ct_study_complete
from studies.dispatch import enqueue_analysers, enqueue_analysis
from studies.events import study_events_publish
from studies.images import image_accept, image_files_write, image_refusal, images_store, study_image_build
from studies.inference import analysis_pipeline
from studies.models import ImageKind, Study, StudyImage, StudyStatus
from studies.patients import dicom_patient_key, study_patient_key
from studies.selectors import studies_pending_count
from studies.uploads import DICOM, ZIP, ReceivedUpload, check_image_count, uploads_receive

logger = logging.getLogger(__name__)


def study_create(*, owner: User, uploads: Sequence[UploadedFile], patient_reference: str = "") -> Study:
    """Store the uploaded files as one new study, answered from the result cache or queued for analysis.

    Each file goes through the pipeline's intake here, before anything is stored: a file that is
    not a chest radiograph is refused at once with its reason (a lateral only beside a frontal
    image), DICOM files are kept only de-identified, and the network's inputs are prepared once,
    so the worker only runs the model. If any file is refused or anything fails, the files already
    written are removed and no study row is left. The pending cap is checked once, under a lock,
    where the study is inserted (a refusal there costs the intake's work, which the upload rate
    throttle bounds). ``patient_reference``, typed by the clinician, names the patient where the
    files do not (studies.patients).
    """
    received, refused = uploads_receive(uploads)
    if len(received) == 1 and not refused and received[0].is_ct_series:
        return ct_study_create(owner=owner, received=received[0], patient_reference=patient_reference)
    series = [upload.filename for upload in received if upload.is_ct_series]
    if series:
        raise DomainError(
            "A CT series is a study of its own: upload its zip or multi-frame file alone.",
            extra={"files": series},
        )
    return study_create_from_files(
        owner=owner, received=received, refused_before=refused, patient_reference=patient_reference
    )


def study_create_from_file(*, owner: User, received: ReceivedUpload) -> Study:
    """A study of one file already read within the size limit: an upload, or an image a PACS sent
    (pacs.services). The pipeline's intake refuses it with its reason before anything is stored."""
    if received.is_ct_series:
        return ct_study_create(owner=owner, received=received)
    return study_create_from_files(owner=owner, received=[received])


def study_create_from_files(
    *,
    owner: User,
    received: Sequence[ReceivedUpload],
    refused_before: Sequence[DomainError] = (),
    patient_reference: str = "",
) -> Study:
    """A study of files already read within the size limit (studies.images takes them in, or refuses
    them all with those ``refused_before``)."""
    study_id = uuid.uuid4()
    written: list[str] = []
    try:
        stored = images_store(
            received,
            refused_before=refused_before,
            patient_reference=patient_reference,
            study_id=study_id,
            written=written,
        )
        with pending_cap_held(owner=owner):
            study = study_insert(
                study_id=study_id,
                owner=owner,
                images=stored.rows,
                key_image=stored.key_image,
                queued=stored.cached is None,
                patient_key=stored.patient_key,
            )
            if stored.cached is not None:
                results = [(image, stored.cached[image.position]) for image in stored.rows if image.analysed]
                study_complete(study=study, results=results, from_cache=True)
        if stored.cached is None:
            study_enqueue_or_withdraw(study=study)
        else:
            analysers_enqueue(study=study)
    except BaseException:
        storage.delete_files(written)
        raise
    return study


def ct_study_create(*, owner: User, received: ReceivedUpload, patient_reference: str = "") -> Study:
    """A CT study (studies.ct) from a zip of slices or a multi-frame CT DICOM: read, checked,
    de-identified and prepared by the pipeline's CT intake, then answered from the result cache or
    queued. The series is the study's one image, of kind CT. If anything fails, the files already
    written are removed and no study row is left."""
    patient_key = study_patient_key([received], reference=patient_reference)
    pipeline = analysis_pipeline()
    try:
        intake = pipeline.intake(received.data, dataset=received.dataset)
    except ImageError as error:
        raise image_refusal(error, filename=received.filename) from error
    file_type = ZIP if intake.format == "zip" else DICOM
    filename = received.filename
    if words_of(filename) & intake.identifying_words:
        filename = f"ct-series.{file_type.extension}"
    study_id = uuid.uuid4()
    sha256 = hashlib.sha256(received.data).hexdigest()
    cached = ct_cached_result_get(card=pipeline.card(CT_KIND), sha256=sha256)
    written: list[str] = []
    try:
        original = storage.original_path(study_id, file_type.extension)
        written.append(storage.write_file(original, intake.stored_bytes))
        written.append(storage.write_file(storage.display_path(study_id), intake.display_png))
        if cached is None:
            written.append(storage.write_file(storage.model_input_path(study_id), intake.prepared.to_bytes()))
        series = StudyImage(
            study_id=study_id,
            position=0,
            kind=ImageKind.CT,
            original_filename=filename,
            content_type=file_type.content_type,
            image_sha256=sha256,
            width=intake.series.columns,
            height=intake.series.rows,
            original_file=written[0],
            display_file=written[1],
            model_input_file=written[2] if cached is None else "",
            image_metadata=intake.series.to_dict(),
        )
        with pending_cap_held(owner=owner):
            study = study_insert(
                study_id=study_id,
                owner=owner,
                images=[series],
                key_image=series,
                queued=cached is None,
                patient_key=patient_key,
            )
            if cached is not None:
                ct_study_complete(study=study, card=cached[0], result=cached[1], from_cache=True)
        if cached is None:
            study_enqueue_or_withdraw(study=study)
    except BaseException:
        storage.delete_files(written)
        raise
    return study


def study_insert(
    *,
    study_id: uuid.UUID,
    owner: User,
    images: list[StudyImage],
    key_image: StudyImage,
    queued: bool,
    patient_key: str,
) -> Study:
    """Insert a study with its images (built for ``study_id``) and point it at its key image, one of them."""
    study = Study.objects.create(
        id=study_id, owner=owner, patient_key=patient_key, enqueued_at=timezone.now() if queued else None
    )
    StudyImage.objects.bulk_create(images)
    study.key_image = key_image
    study.save(update_fields=["key_image"])
    return study


def study_image_add(*, study: Study, received: ReceivedUpload) -> Study:
    """Add a file to an existing study (an image a PACS sent of a study it sent before).

    The file is taken in as one image of a study that has a frontal one (so a lateral is kept, not
    analysed). A frontal image sends the study back to the queue, to be analysed again with it; a
    running analysis then finds the study changed and leaves its result (studies.analysis). The same
    file sent again (a PACS retrying) adds nothing. An image of another patient than the study's
    (by its patient key) is refused (400).
    """
    check_same_patient(study=study, received=received)
    image = image_accept(received, pipeline=analysis_pipeline(), accept_lateral=True)
    written: list[str] = []
    try:
        with transaction.atomic():
            study = Study.objects.select_for_update().get(pk=study.pk)
            images = list(study.images.all())
            if any(existing.image_sha256 == image.sha256 for existing in images):
                return study
            check_image_count(len(images) + 1)
            position = max(existing.position for existing in images) + 1
            files = image_files_write(
                study_id=study.id, position=position, image=image, with_model_input=True, written=written
            )
            study_image_build(study_id=study.id, position=position, image=image, files=files).save()
            if image.lateral:
                return study
            study_requeue(study=study)
    except BaseException:
        storage.delete_files(written)
        raise
    study_enqueue_or_keep(study.id)
    return study


def check_same_patient(*, study: Study, received: ReceivedUpload) -> None:
    """Refuse a file joining a study of another patient (both named, and different)."""
    key = dicom_patient_key(received)
    if study.patient_key and key and key != study.patient_key:
        raise DomainError(
            f"{received.filename} names another patient than the study it belongs to (by its Study "
            "Instance UID): it was not added.",
            extra={"reason": "different patients", "files": [received.filename]},
        )


def study_requeue(*, study: Study) -> None:
    """Send a study back to the queue as if new: its analysis starts over with every image."""
    job_enqueued(study)
    study.attempts = study.requeues = 0
    study.from_cache = False
    job_save(study, "from_cache")
    study_events_publish([study.id])


def studies_reanalyse(
    *, study_ids: Sequence[uuid.UUID], request: HttpRequest | None = None, actor: User | None = None
) -> list[uuid.UUID]:
    """Send finished radiograph studies back to the queue, to be analysed by the active deployment.

    An admin's explicit choice (promoting a model never does it): each study's results are replaced
    by the new ones, which name the card and profile that made them; the audit log keeps the choice
    (``studies_reanalyse``, by the request's admin or ``actor``). Studies still in analysis and CT
    studies are left alone. Returns the studies queued.
    """
    with transaction.atomic():
        studies = list(
            Study.objects.select_for_update(of=("self",))
            .filter(pk__in=study_ids, status__in=[StudyStatus.DONE, StudyStatus.FAILED])
            .exclude(key_image__kind=ImageKind.CT)
        )
        for study in studies:
            study_requeue(study=study)
        queued = [study.pk for study in studies]
        audit_record(
            action=AuditAction.STUDIES_REANALYSE,
            request=request,
            actor=actor,
            target_type="studies",
            target_id=len(queued),
            detail={"queued": [str(study_id) for study_id in queued], "asked": len(study_ids)},
        )
        transaction.on_commit(lambda: [study_enqueue_or_keep(study_id) for study_id in queued])
    return queued


def study_enqueue_or_keep(study_id: uuid.UUID) -> None:
    """Hand a re-queued study (stored and committed) to the broker; with the broker down it stays
    queued, and the reconciler hands it over once the broker is back."""
    try:
        enqueue_analysis(study_id)
    except BROKER_ERRORS as error:
        logger.warning("Study %s queued again but left for the reconciler: %s", study_id, error)


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


@contextmanager
def pending_cap_held(*, owner: User) -> Iterator[None]:
    """A transaction in which ``owner``'s pending cap is checked and still holds for an insert.

    Uploads of one user are serialised on their user row from the count to the insert, so
    concurrent uploads cannot all pass the cap. Files are written before, so the lock is held only
    for the insert's few statements.
    """
    with transaction.atomic():
        User.objects.select_for_update().only("pk").get(pk=owner.pk)
        check_pending_limit(owner=owner)
        yield


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


def studies_fail_interrupted(*, message: str) -> int:
    """Fail studies that an embedded-mode process left queued or running when it stopped."""
    return jobs_fail(Study.objects.all(), message=message)
