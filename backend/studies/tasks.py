"""Celery tasks: take an id, call the service."""

import uuid
from typing import Any

from billiard.einfo import ExceptionInfo
from celery import Task, shared_task
from celery.exceptions import TimeLimitExceeded
from django.conf import settings

from studies.analysis import studies_analyze
from studies.reconciliation import TIMED_OUT, studies_fail_claimed, studies_reconcile


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
            studies_fail_claimed(claimant=task_id, message=TIMED_OUT.format(seconds=seconds))


@shared_task(
    name="studies.analyze_study", base=AnalysisTask, bind=True, acks_late=True, reject_on_worker_lost=True
)
def analyze_study(self: Task, study_id: str) -> None:
    # The task id names the claim, so a redelivered task (same id) takes its study back.
    studies_analyze(study_id=uuid.UUID(study_id), claimant=self.request.id or f"task-{study_id}")


@shared_task(name="studies.reconcile_studies")
def reconcile_studies() -> None:
    studies_reconcile()
