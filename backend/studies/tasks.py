"""Celery tasks: take an id, call the service. Each worker process builds its model when it starts."""

import logging
import uuid
from typing import Any

from celery import Task, shared_task
from celery.signals import worker_process_init

from ml.errors import WeightsError
from studies.analysis import studies_analyze
from studies.inference import ready_pipeline

logger = logging.getLogger(__name__)


@shared_task(name="studies.analyze_study", bind=True, acks_late=True, reject_on_worker_lost=True)
def analyze_study(self: Task, study_id: str) -> None:
    # The task id names the claim, so a redelivered task (same id) takes its study back.
    studies_analyze(study_id=uuid.UUID(study_id), claimant=self.request.id or f"task-{study_id}")


@worker_process_init.connect
def build_model_before_the_first_study(**_: Any) -> None:
    """Build the network in each worker process right after it forks, not on its first study.

    A broken weights directory is logged here and fails each study with its message later,
    rather than stopping the worker from starting.
    """
    try:
        engine = ready_pipeline().engine
    except WeightsError:
        logger.exception("The model could not be built; analyses will fail until the weights are fixed")
        return
    logger.info("Model %s %s ready on %s", engine.card.name, engine.card.version, engine.backend)
