"""Analysing queued studies: claim a batch, run the pipeline once for all their images, store each result.

A task names one study. When other studies are waiting too, the task claims them with it (up to
CXR_ANALYSIS_BATCH_SIZE) and the network sees them as one batch; their own tasks later find them
done, or still claimed by a live batch, and leave them alone. Every step is safe to run again for
the same study (a redelivered task): a finished study is left alone, and a study whose analyses
keep dying is failed rather than retried forever.
"""

import logging
import uuid
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.dependencies import CACHE_ERRORS
from common.jobs import job_claim, job_done, job_fail, jobs_fail
from ml.classifier.analyser import CLASSIFIER, ClassifierResult
from ml.classifier.explanations.heatmaps import FILE_EXTENSION as HEATMAPS_EXTENSION
from ml.errors import ImageError, WeightsError
from ml.pipeline import Pipeline
from ml.prepared import PreparedImage
from studies import storage
from studies.analyser_runs import analyser_runs_create
from studies.ct import ct_study_analyze
from studies.events import study_events_publish, study_finished_announce
from studies.image_results import ImageResults, image_results_store
from studies.inference import worker_models
from studies.models import Finding, ImageKind, Study, StudyImage, StudyStatus
from studies.prepared import prepared_input
from studies.result_cache import CachedFinding, CachedResult, cached_result_put
from studies.shadow import shadow_results_store

logger = logging.getLogger(__name__)


def studies_analyze(*, study_id: uuid.UUID, claimant: str) -> list[uuid.UUID]:
    """Analyse the study ``study_id`` and, in the same batch, other studies waiting for analysis.

    Every analysed image of every study of the batch goes through the network in one forward pass.
    Returns the studies whose findings were stored: their analyser runs are queued, for the caller
    to hand to the analysers' queue (studies.tasks, studies.dispatch), never to run here.
    """
    batch = studies_claim(study_id=study_id, claimant=claimant, limit=settings.CXR_ANALYSIS_BATCH_SIZE)
    if not batch:
        return []
    try:
        # What analyses, and what runs in shadow, as the admin set it when this task began.
        models = worker_models()
        pipeline, classifier = models.pipeline, models.active_pipeline
        ready: list[tuple[Study, list[StudyImage], list[PreparedImage]]] = []
        for study in batch:
            if study.key_image.kind == ImageKind.CT:
                ct_study_analyze_or_fail(study=study, pipeline=pipeline)
                continue
            images = list(study.images.filter(analysed=True))
            if not images:
                study_fail(study=study, message="Analysis failed: the study has no frontal image to analyse.")
                continue
            try:
                ready.append(
                    (study, images, [prepared_input(image, classifier, kind=CLASSIFIER) for image in images])
                )
            except ImageError as error:
                study_fail(study=study, message=f"Analysis failed: {error}")
        raw = classifier.run(CLASSIFIER, [prepared for _, _, inputs in ready for prepared in inputs])
        results = iter([models.active.result_of(result) for result in raw])
        for study, images, _ in ready:
            study_store_results(
                study=study,
                results=[(image, next(results)) for image in images],
                threshold_profile=models.active.profile_summary,
            )
        if models.shadow is not None and ready:
            shadow_results_store(models=models, batch=ready, active_raw=raw)
    except SoftTimeLimitExceeded:
        studies_fail_unfinished(
            batch, message=f"Analysis took longer than {settings.CELERY_TASK_SOFT_TIME_LIMIT} s."
        )
    except Exception as error:
        logger.exception("Analysis of studies %s failed", [str(study.id) for study in batch])
        studies_fail_unfinished(batch, message=f"Analysis failed: {error}")
    # Those stored before a failure of the rest of the batch count too: their runs are queued.
    done = Study.objects.filter(pk__in=[study.pk for study in batch], status=StudyStatus.DONE)
    return list(done.values_list("pk", flat=True))


def ct_study_analyze_or_fail(*, study: Study, pipeline: Pipeline) -> None:
    """A CT study of the batch, scored by the CT analyser alone; its failure fails it alone."""
    try:
        ct_study_analyze(study=study, pipeline=pipeline)
    except (ImageError, WeightsError, ValueError, OSError) as error:
        logger.exception("CT analysis of study %s failed", study.id)
        study_fail(study=study, message=f"Analysis failed: {error}")


def studies_claim(*, study_id: uuid.UUID, claimant: str, limit: int) -> list[Study]:
    """Mark ``study_id`` and up to ``limit - 1`` other queued studies running under ``claimant``."""
    with transaction.atomic():
        own = Study.objects.select_for_update().filter(pk=study_id).first()
        if own is None:
            logger.warning("Study %s no longer exists; nothing to analyse", study_id)
            return []
        if not claimable_by(own, claimant):
            return []
        batch = [own]
        # A task redelivered because its worker died (same id, so same claimant) takes back the
        # rest of its first run's batch too: that run is gone, and otherwise those studies would
        # wait for the reconciler's running deadline (common.jobs).
        batch += list(
            Study.objects.select_for_update(skip_locked=True)
            .filter(
                status=StudyStatus.RUNNING,
                claimed_by=claimant,
                attempts__lt=settings.CXR_MAX_ANALYSIS_ATTEMPTS,
            )
            .exclude(pk=study_id)
        )
        if limit > len(batch):
            # Studies another worker is claiming right now are skipped, not waited for.
            waiting = (
                Study.objects.select_for_update(skip_locked=True)
                .filter(status=StudyStatus.QUEUED, attempts__lt=settings.CXR_MAX_ANALYSIS_ATTEMPTS)
                .exclude(pk=study_id)
                .order_by("created_at")[: limit - len(batch)]
            )
            batch += list(waiting)
        now = timezone.now()
        for study in batch:
            job_claim(study, claimant=claimant, now=now)
        study_events_publish(study.id for study in batch)
    return batch


def claimable_by(study: Study, claimant: str) -> bool:
    """Whether the task ``claimant`` should analyse ``study`` now (failing it if it never can)."""
    if study.status in (StudyStatus.DONE, StudyStatus.FAILED):
        return False
    if study.status == StudyStatus.RUNNING and study.claimed_by not in ("", claimant):
        # Another task's batch has it. Only a claim older than the hard time limit is abandoned
        # (its worker died); a live one finishes or fails the study itself.
        deadline = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
        if study.started_at is not None and study.started_at > timezone.now() - deadline:
            return False
    if study.attempts >= settings.CXR_MAX_ANALYSIS_ATTEMPTS:
        study_fail(
            study=study,
            message=f"Analysis was interrupted {study.attempts} times (the worker stopped); giving up.",
        )
        return False
    return True


def study_store_results(
    *,
    study: Study,
    results: list[tuple[StudyImage, ClassifierResult]],
    threshold_profile: dict[str, Any] | None,
) -> None:
    """Store each image's findings and heatmaps, then the study's aggregate, and cache each image's."""
    cached_results: list[tuple[StudyImage, CachedResult]] = []
    for image, result in results:
        heatmaps_file = storage.write_file(
            storage.heatmaps_path(study.id, HEATMAPS_EXTENSION, image.position), result.attachment()
        )
        cached = CachedResult(
            model_card=result.card.to_dict(),
            findings=tuple(CachedFinding(**finding.to_dict()) for finding in result.findings),
            heatmaps_file=heatmaps_file,
            threshold_profile=threshold_profile,
        )
        cached_results.append((image, cached))
    with transaction.atomic():
        # An image a PACS sent while this batch ran sends the study back to the queue
        # (pacs.services): this result, without that image, is then not the study's.
        Study.objects.select_for_update().filter(pk=study.pk).first()
        analysed_now = set(study.images.filter(analysed=True).values_list("pk", flat=True))
        if analysed_now != {image.pk for image, _ in results}:
            logger.info(
                "Study %s gained an image during its analysis; its result waits for the next", study.id
            )
            return
        study.findings.all().delete()
        study_complete(study=study, results=cached_results, from_cache=False)
        # A study a PACS sent files its results back into it (pacs.apps subscribes).
        study_finished_announce(study.id)
    for (image, cached), (_, result) in zip(cached_results, results, strict=True):
        try:
            # The card that made the result keys it as the web process's described card does
            # (ml.cards.base.Card.cache_identity).
            cached_result_put(card=result.card, image_sha256=image.image_sha256, result=cached)
        except CACHE_ERRORS as error:
            # The study is stored and done; a cache that is down (a Redis restarting) only costs a
            # later upload of the same image an analysis, and must not fail the rest of the batch.
            logger.warning("Result of study %s not cached: %s", study.id, error)
            break


def study_complete(*, study: Study, results: ImageResults, from_cache: bool) -> None:
    """Store each analysed image's result and the study's findings, and end the study's job."""
    result = image_results_store(study=study, results=results)
    Finding.objects.bulk_create(Finding(study=study, **asdict(finding)) for finding in result.findings)
    if from_cache:
        study.started_at = timezone.now()
    study.model_card = result.model_card
    study.threshold_profile = result.threshold_profile
    study.from_cache = from_cache
    job_done(study, "model_card", "threshold_profile", "from_cache")
    analyser_runs_create(study=study)
    study_events_publish([study.id])


def study_fail(*, study: Study, message: str) -> None:
    job_fail(study, message=message)
    study_events_publish([study.id])


def studies_fail_unfinished(batch: list[Study], *, message: str) -> None:
    """Fail the studies of a batch that did not finish (some may have been stored already)."""
    jobs_fail(Study.objects.filter(pk__in=[study.pk for study in batch]), message=message)
    study_events_publish(study.pk for study in batch)
