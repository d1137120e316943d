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
from ml.errors import ImageDecodeError
from ml.imaging import decode_radiograph
from ml.rendering import heatmap_png, radiograph_png
from studies import storage
from studies.dispatch import enqueue_analysis
from studies.inference import active_model_card, get_engine
from studies.models import Finding, Study, StudyStatus
from studies.result_cache import CachedFinding, CachedResult, cached_result_get, cached_result_put
from studies.uploads import receive_upload

logger = logging.getLogger(__name__)


def study_create(*, owner: User, upload: UploadedFile) -> Study:
    """Store an upload as a new study, answered from the result cache or queued for analysis.

    The file is decoded here, before anything is stored, so a file the worker could not read is
    refused at once with a reason. If anything fails, the files already written are removed and no
    study row is left.
    """
    received = receive_upload(upload)
    try:
        radiograph = decode_radiograph(received.data)
    except ImageDecodeError as error:
        raise DomainError(str(error), extra={"filename": received.filename}) from error

    study_id = uuid.uuid4()
    image_sha256 = hashlib.sha256(received.data).hexdigest()
    card = active_model_card()
    written: list[str] = []
    try:
        written.append(storage.write_file(storage.original_path(study_id, received.extension), received.data))
        written.append(storage.write_file(storage.display_path(study_id), radiograph_png(radiograph)))
        cached = cached_result_get(card=card, image_sha256=image_sha256)
        with transaction.atomic():
            study = Study.objects.create(
                id=study_id,
                owner=owner,
                original_filename=received.filename,
                content_type=received.content_type,
                image_sha256=image_sha256,
                width=radiograph.width,
                height=radiograph.height,
                original_file=written[0],
                display_file=written[1],
            )
            if cached is None:
                transaction.on_commit(lambda: enqueue_analysis(study_id))
            else:
                study_complete(study=study, result=cached, from_cache=True)
    except BaseException:
        storage.delete_files(written)
        raise
    return study


def study_analyze(*, study_id: uuid.UUID) -> None:
    """Run the model on a queued study and store its findings and heatmaps.

    Safe to run again for the same study (a redelivered task): a finished study is left alone, and a
    study whose analyses keep dying is failed rather than retried forever.
    """
    study = study_claim_for_analysis(study_id=study_id)
    if study is None:
        return
    try:
        radiograph = decode_radiograph(storage.read_file(study.original_file.name))
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
