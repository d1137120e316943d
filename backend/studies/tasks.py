"""Celery tasks: take an id, call the service."""

import uuid

from celery import Task, shared_task

from studies.analysis import studies_analyze


@shared_task(name="studies.analyze_study", bind=True, acks_late=True, reject_on_worker_lost=True)
def analyze_study(self: Task, study_id: str) -> None:
    # The task id names the claim, so a redelivered task (same id) takes its study back.
    studies_analyze(study_id=uuid.UUID(study_id), claimant=self.request.id or f"task-{study_id}")
