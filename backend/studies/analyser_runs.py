"""Running the analysers beside the classifier (segmentation, screener) on studies already done.

A study's findings are stored first (studies.analysis), and with them one queued run per configured
analyser (``analyser_runs_create``); the task ``studies.run_analysers``, on the analysers' own queue
and worker process, then runs them (``analyser_runs_execute``), one batch per analyser, so the
clinician sees the findings without waiting for the other analysers, and the next study's findings
never wait behind them. A run that fails is failed alone, with its message: the study and its
findings stay as they are. Runs are jobs (common.jobs): the reconciler hands those that a lost
worker left behind again, or fails them.
"""

import logging
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.jobs import claimable, job_done, job_kind_of, jobs_claim, jobs_fail
from ml.errors import ImageError, WeightsError
from ml.pipeline import Pipeline
from studies import storage
from studies.events import study_events_publish, study_finished_announce
from studies.inference import analysis_pipeline
from studies.models import AnalyserRun, Study
from studies.prepared import prepared_input

logger = logging.getLogger(__name__)


def analyser_runs_create(*, study: Study) -> None:
    """Queue a run of every configured analyser for ``study`` (call inside the study's transaction)."""
    for kind in settings.CXR_ANALYSERS:
        AnalyserRun.objects.get_or_create(study=study, kind=kind, defaults={"enqueued_at": timezone.now()})


def analyser_runs_execute(study_ids: Iterable[uuid.UUID], *, claimant: str = "") -> None:
    """Run the queued analyser runs of these studies, one batch per analyser, as the task ``claimant``."""
    runs = analyser_runs_claim(study_ids, claimant=claimant)
    if not runs:
        return
    # The analysers build their own networks; the classifier's is not needed to run them.
    pipeline = analysis_pipeline()
    for kind in sorted({run.kind for run in runs}):
        analyser_runs_of_kind(pipeline, kind, [run for run in runs if run.kind == kind])
    studies = {run.study_id for run in runs}
    study_events_publish(studies)
    for study_id in studies:
        # With its last run ended, the study's analysis is over (the PACS filing waits for it).
        study_finished_announce(study_id)


def analyser_runs_claim(study_ids: Iterable[uuid.UUID], *, claimant: str) -> list[AnalyserRun]:
    """Mark the studies' queued runs running; runs another task holds are skipped, not waited for."""
    with transaction.atomic():
        runs = list(
            AnalyserRun.objects.select_for_update(skip_locked=True)
            .select_related("study")
            .filter(claimable(claimant), study_id__in=list(study_ids))
        )
        return jobs_claim(job_kind_of(AnalyserRun), runs, claimant=claimant)


def analyser_runs_of_kind(pipeline: Pipeline, kind: str, runs: list[AnalyserRun]) -> None:
    if kind not in pipeline.kinds:
        analyser_runs_fail(runs, message=f"The {kind} analyser is not configured on this worker.")
        return
    try:
        pipeline.card(kind)
    except WeightsError as error:
        analyser_runs_fail(runs, message=f"The {kind} analyser's weights cannot be used: {error}")
        return
    ready = []
    for run in runs:
        try:
            ready.append((run, prepared_input(run.study.key_image, pipeline, kind=kind)))
        except ImageError as error:
            analyser_runs_fail([run], message=f"The {kind} analyser could not read the image: {error}")
    try:
        results = pipeline.run(kind, [prepared for _, prepared in ready])
    except Exception as error:
        # A network that cannot be built or run: this analyser's runs fail, nothing else.
        studies = [str(run.study_id) for run, _ in ready]
        logger.exception("The %s analyser failed on studies %s", kind, studies)
        analyser_runs_fail([run for run, _ in ready], message=f"The {kind} analyser failed: {error}")
        return
    for (run, _), result in zip(ready, results, strict=True):
        attachment = result.attachment()
        if attachment is not None:
            run.result_file = storage.write_file(storage.analyser_path(run.study_id, kind), attachment)
        run.card = result.card.to_dict()
        run.result = result.to_dict()
        run.score = result.score
        job_done(run, "result_file", "card", "result", "score")


def analyser_runs_fail(runs: list[AnalyserRun], *, message: str) -> None:
    jobs_fail(AnalyserRun.objects.filter(pk__in=[run.pk for run in runs]), message=message)
