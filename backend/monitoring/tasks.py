"""Celery tasks of monitoring: an acceptance run (by id), and the daily drift snapshot."""

import datetime

from celery import Task, shared_task
from django.conf import settings
from django.utils import timezone

from monitoring.dispatch import RUN_ACCEPTANCE
from monitoring.drift import drift_snapshot_compute
from monitoring.services import acceptance_run_execute

DAILY_SNAPSHOT = "monitoring.daily_snapshot"


@shared_task(
    name=RUN_ACCEPTANCE,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=settings.CXR_ACCEPTANCE_TIME_LIMIT_SECONDS,
    soft_time_limit=settings.CXR_ACCEPTANCE_TIME_LIMIT_SECONDS - 30,
)
def run_acceptance(self: Task, run_id: int) -> None:
    # The task id names the claim, so a redelivered task takes its run back.
    acceptance_run_execute(run_id=run_id, claimant=self.request.id or "")


@shared_task(name=DAILY_SNAPSHOT)
def daily_snapshot(day: str | None = None) -> None:
    """Yesterday's snapshot (beat runs it after midnight), or the ISO ``day`` given."""
    when = datetime.date.fromisoformat(day) if day else timezone.localdate() - datetime.timedelta(days=1)
    drift_snapshot_compute(day=when)
