"""Celery tasks: take an id, call the service. Each worker process builds its networks when it starts."""

import logging
import uuid
from typing import Any

from billiard.einfo import ExceptionInfo
from celery import Task, current_app, shared_task
from celery.exceptions import TimeLimitExceeded
from celery.signals import worker_process_init
from django.conf import settings

from common.dependencies import BROKER_ERRORS
from common.jobs import jobs_fail_claimed, jobs_reconcile
from ml.errors import WeightsError
from studies.analyser_runs import analyser_runs_execute
from studies.analysis import studies_analyze
from studies.dispatch import ANALYZE_STUDY, EXPLAIN_FINDING, RUN_ANALYSERS, STUDY, enqueue_analysers
from studies.explanations import explanation_compute
from studies.inference import ready_analysers, ready_pipeline

logger = logging.getLogger(__name__)

TIMED_OUT = "The analysis took longer than {seconds} s and was stopped. Upload the image again."


class AnalysisTask(Task):
    """Ends the batch of a task killed at the hard time limit.

    The hard limit kills the pool process and acknowledges the task; the worker's main process
    then calls this hook (Celery 5.7, as pinned, does so for hard time limits), where the batch, still marked
    running under this task's id, is failed at once rather than when the reconciler finds it.
    """

    def on_failure(
        self,
        exc: Exception,
        task_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        einfo: ExceptionInfo,
    ) -> None:
        if isinstance(exc, TimeLimitExceeded):
            seconds = settings.CELERY_TASK_TIME_LIMIT
            jobs_fail_claimed(STUDY, claimant=task_id, message=TIMED_OUT.format(seconds=seconds))


@shared_task(name=ANALYZE_STUDY, base=AnalysisTask, bind=True, acks_late=True, reject_on_worker_lost=True)
def analyze_study(self: Task, study_id: str) -> None:
    # The task id names the claim, so a redelivered task (same id) takes its study back.
    done = studies_analyze(study_id=uuid.UUID(study_id), claimant=self.request.id or f"task-{study_id}")
    for analysed in done:
        analysers_hand_over(analysed)


@shared_task(name=RUN_ANALYSERS, bind=True, acks_late=True, reject_on_worker_lost=True)
def run_analysers(self: Task, study_id: str) -> None:
    """The analysers beside the classifier for a study whose findings are stored, on the analysers'
    queue (CXR_ANALYSER_QUEUE, settings.CELERY_TASK_ROUTES) and so in a worker process of their own."""
    # As for a study: the task id names the claim, so a redelivered task takes its runs back.
    analyser_runs_execute([uuid.UUID(study_id)], claimant=self.request.id or "")


def analysers_hand_over(study_id: uuid.UUID) -> None:
    """Send a study's queued analyser runs to their queue; a broker that is down leaves them queued,
    for the reconciler to hand over, without failing the findings already stored."""
    try:
        enqueue_analysers(study_id)
    except BROKER_ERRORS as error:
        logger.warning("Analysers of study %s left for the reconciler: %s", study_id, error)


@shared_task(name=EXPLAIN_FINDING, bind=True, acks_late=True, reject_on_worker_lost=True)
def explain_finding(self: Task, explanation_id: int) -> None:
    # A redelivered task takes its own claim back; another task's running one, or a done one, is left.
    explanation_compute(explanation_id=explanation_id, claimant=self.request.id or "")


@shared_task(name="studies.reconcile_studies")
def reconcile_studies() -> None:
    """Every kind of background work (common.jobs), not only studies; the name is beat's."""
    jobs_reconcile()


@worker_process_init.connect
def build_networks_before_the_first_study(**_: Any) -> None:
    """Build the networks of this worker's role in each of its processes right after it forks.

    The findings worker (the study queue) builds the classifier, the analysers' worker every
    configured analyser, so no study pays for a build. A broken weights directory is logged here
    and fails each study (or run) with its message later, rather than stopping the worker.
    """
    consumed = set(current_app.amqp.queues.consume_from)
    if settings.CELERY_TASK_DEFAULT_QUEUE in consumed:
        try:
            engine = ready_pipeline().engine
        except WeightsError:
            logger.exception("The model could not be built; analyses will fail until the weights are fixed")
        else:
            logger.info("Model %s %s ready on %s", engine.card.name, engine.card.version, engine.backend)
    if settings.CXR_ANALYSER_QUEUE in consumed:
        try:
            pipeline = ready_analysers()
        except WeightsError:
            logger.exception("An analyser could not be built; its runs will fail until its weights are fixed")
        else:
            built = [kind for kind in settings.CXR_ANALYSERS if pipeline.analysers.is_built(kind)]
            logger.info("Analysers ready: %s", ", ".join(built) or "none configured")
