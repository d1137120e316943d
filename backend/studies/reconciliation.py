"""A study always ends: the reconciler finds studies that nobody is analysing and acts on them.

Two ways a study can be left behind with a broker and workers:

- queued, but its message is gone (a Redis restarted without persistence, a queue purged): it waits
  past CXR_QUEUED_DEADLINE_SECONDS since it was last enqueued;
- running, but its worker is gone (killed, its host lost) after it claimed the study: its claim is
  older than CXR_RUNNING_DEADLINE_SECONDS, which is longer than the hard time limit, so a live task
  always finishes or fails its batch first (studies.analysis).

Each is enqueued again, up to CXR_MAX_REQUEUES times (and, for running ones, within
CXR_MAX_ANALYSIS_ATTEMPTS claims), else failed with a message a clinician can act on. A hard time
limit kills the task's process without a word: the task's failure hook fails its batch at once
(``studies_fail_claimed``). Celery beat runs ``studies_reconcile`` every CXR_RECONCILE_INTERVAL_SECONDS.
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from studies.analyser_runs import analyser_runs_reconcile
from studies.analysis import study_fail
from studies.models import Study, StudyStatus
from studies.selectors import abandoned_running, overdue_queued

logger = logging.getLogger(__name__)

GAVE_UP_WAITING = (
    "This study waited too long for the analysis service (it may have been down or overloaded). "
    "Upload the image again; if this keeps happening, tell your administrator."
)
GAVE_UP_INTERRUPTED = (
    "The analysis was interrupted {attempts} times (the analysis worker stopped). "
    "Upload the image again; if this keeps happening, tell your administrator."
)
TIMED_OUT = "The analysis took longer than {seconds} s and was stopped. Upload the image again."


@dataclass
class Reconciliation:
    """What one pass of the reconciler did, by study id."""

    requeued: list[uuid.UUID] = field(default_factory=list)
    failed: list[uuid.UUID] = field(default_factory=list)
    # Studies whose analyser runs (studies.analyser_runs) were handed over again, and runs failed.
    analysers_requeued: list[uuid.UUID] = field(default_factory=list)
    analyser_runs_failed: int = 0


def studies_reconcile(*, now: datetime | None = None) -> Reconciliation:
    """Enqueue again, or fail, every study queued or running past its deadline."""
    from studies.dispatch import enqueue_analysers, enqueue_analysis

    now = now or timezone.now()
    outcome = Reconciliation()
    with transaction.atomic():
        # Several reconcilers (or a worker claiming) may run at once: each takes what it can lock.
        stuck = list(
            Study.objects.select_for_update(skip_locked=True)
            .annotate(last_enqueued=Coalesce("enqueued_at", "created_at"))
            .filter(overdue_queued(now) | abandoned_running(now))
        )
        for study in stuck:
            if study.status == StudyStatus.RUNNING and study.attempts >= settings.CXR_MAX_ANALYSIS_ATTEMPTS:
                study_fail(study=study, message=GAVE_UP_INTERRUPTED.format(attempts=study.attempts))
                outcome.failed.append(study.id)
            elif study.requeues >= settings.CXR_MAX_REQUEUES:
                study_fail(study=study, message=GAVE_UP_WAITING)
                outcome.failed.append(study.id)
            else:
                study.status = StudyStatus.QUEUED
                study.claimed_by = ""
                study.enqueued_at = now
                study.requeues += 1
                study.save(update_fields=["status", "claimed_by", "enqueued_at", "requeues"])
                outcome.requeued.append(study.id)
        outcome.analysers_requeued, outcome.analyser_runs_failed = analyser_runs_reconcile(now)
    for study_id in outcome.requeued:
        # After the commit, so the worker finds the study queued. A broker still down raises here;
        # the study stays queued with this pass counted, and the next pass tries again.
        enqueue_analysis(study_id)
    for study_id in outcome.analysers_requeued:
        enqueue_analysers(study_id)
    if outcome.requeued or outcome.failed or outcome.analysers_requeued or outcome.analyser_runs_failed:
        logger.warning(
            "Reconciler: enqueued again %s; failed %s; analysers enqueued again for %s, %d runs failed",
            outcome.requeued,
            outcome.failed,
            outcome.analysers_requeued,
            outcome.analyser_runs_failed,
        )
    return outcome


def studies_fail_claimed(*, claimant: str, message: str) -> int:
    """Fail the studies a task claimed and did not finish (its process was killed at the hard limit)."""
    return Study.objects.filter(status=StudyStatus.RUNNING, claimed_by=claimant).update(
        status=StudyStatus.FAILED, finished_at=timezone.now(), message=message
    )
