"""Celery tasks: take an id, call the service."""

import uuid

from celery import shared_task

from studies.services import study_analyze


@shared_task(name="studies.analyze_study", acks_late=True, reject_on_worker_lost=True)
def analyze_study(study_id: str) -> None:
    study_analyze(study_id=uuid.UUID(study_id))
