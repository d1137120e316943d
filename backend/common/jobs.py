"""One lifecycle for every kind of background work: its fields, its claim, done and fail, its
dispatch and the one reconciler that ends whatever a lost message or a dead worker left behind.

A kind of work (a study's analysis, an analyser run, an explanation) is a model deriving from
``Job`` and a ``JobKind`` registered here by its app (``job_kind_register``, from its AppConfig):
the task that runs it, by name, and what a clinician reads when it is given up. This module imports
no app above ``common``: the apps hand it their kinds, so nothing here needs them, and dispatch goes
by task name (Celery's ``send_task``, or the embedded table), never through an app's task module.

Enqueueing waits for the commit of the transaction it is called in (``job_enqueue``): a worker
must find the row it is handed. Outside any transaction the message goes at once, so a caller can
still answer a broker that is down.
"""

import datetime
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import close_old_connections, connection, models, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

logger = logging.getLogger(__name__)


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Job(models.Model):
    """The state every kind of background work keeps, and the reconciler reads."""

    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    # Claims by a worker, bounded by the kind's max_attempts: a job whose worker keeps dying fails.
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # When it was last handed to the queue, and how many times the reconciler handed it again (its
    # message lost with a broker, or its worker gone), bounded by the kind's max_requeues.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    requeues = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The task that claimed it: a batch may take a job whose own task then finds it taken.
    claimed_by = models.CharField(max_length=255, blank=True, default="")
    message = models.TextField(blank=True, default="")

    class Meta:
        abstract = True


# What a change of state writes, derived from the model so no kind keeps its own list.
JOB_STATE_FIELDS = tuple(f.name for f in Job._meta.fields if f.name != "created_at")


def job_save(job: Job, *extra_fields: str) -> None:
    """Save the job's state, and ``extra_fields`` of its own (its result)."""
    job.save(update_fields=[*JOB_STATE_FIELDS, *extra_fields])


def job_enqueued(job: Job, *, now: datetime.datetime | None = None) -> None:
    """Set ``job`` queued afresh (not saved): a first request or a request after a failure."""
    job.status = JobStatus.QUEUED
    job.enqueued_at = now or timezone.now()
    job.started_at = job.finished_at = None
    job.claimed_by = job.message = ""


def job_claim(job: Job, *, claimant: str = "", now: datetime.datetime | None = None) -> None:
    job.attempts += 1
    job.status = JobStatus.RUNNING
    job.started_at = now or timezone.now()
    job.claimed_by = claimant
    job.message = ""
    job_save(job)


def claimable(claimant: str) -> Q:
    """Queued jobs, and those the task ``claimant`` claimed before its worker died: Celery redelivers
    a task under the same id, so the redelivered task takes its own claim back at once."""
    mine = Q(status=JobStatus.RUNNING, claimed_by=claimant) if claimant else Q(pk__in=[])
    return Q(status=JobStatus.QUEUED) | mine


def jobs_claim(kind: "JobKind", jobs: list[Any], *, claimant: str) -> list[Any]:
    """Claim these jobs (locked by the caller) for ``claimant``; those whose workers kept dying
    (``max_attempts`` claims) are failed with the kind's message instead. Returns the claimed."""
    limits, now = kind.limits(), timezone.now()
    claimed = []
    for job in jobs:
        if job.attempts >= limits.max_attempts:
            job_fail(job, message=kind.gave_up_interrupted.format(attempts=job.attempts))
        else:
            job_claim(job, claimant=claimant, now=now)
            claimed.append(job)
    return claimed


def job_done(job: Job, *result_fields: str, message: str = "") -> None:
    """Mark ``job`` done and save it with the result fields the caller set (and what it did)."""
    job.status = JobStatus.DONE
    job.finished_at = timezone.now()
    job.message = message
    job_save(job, *result_fields)


def job_fail(job: Job, *, message: str) -> None:
    job.status = JobStatus.FAILED
    job.finished_at = timezone.now()
    job.message = message
    job_save(job)


def jobs_fail(jobs: models.QuerySet[Any], *, message: str) -> int:
    """Fail the jobs of ``jobs`` that have not ended (some of a batch may be done already)."""
    return jobs.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).update(
        status=JobStatus.FAILED, finished_at=timezone.now(), message=message
    )


@dataclass(frozen=True)
class Limits:
    queued_deadline_seconds: int
    running_deadline_seconds: int
    max_requeues: int
    max_attempts: int


def default_limits() -> Limits:
    """Read when used, so a changed setting (a test's) applies at once."""
    return Limits(
        queued_deadline_seconds=settings.CXR_QUEUED_DEADLINE_SECONDS,
        running_deadline_seconds=settings.CXR_RUNNING_DEADLINE_SECONDS,
        max_requeues=settings.CXR_MAX_REQUEUES,
        max_attempts=settings.CXR_MAX_ANALYSIS_ATTEMPTS,
    )


@dataclass(frozen=True)
class JobKind:
    """A kind of background work: its model, the task that runs it and how it is given up."""

    name: str
    model: type[Job]
    # The Celery task, by name, and the arguments it takes for one job (jobs with equal arguments
    # share one message: a study's analyser runs are one task).
    task: str
    task_args: Callable[[Any], tuple[Any, ...]]
    # In embedded mode: the function run for the task, and the thread that runs it.
    embedded: Callable[..., None]
    thread: str
    # What the clinician reads when it is given up; ``gave_up_interrupted`` takes {attempts}.
    gave_up_waiting: str
    gave_up_interrupted: str
    limits: Callable[[], Limits] = default_limits
    # Told the ids of jobs whose state the reconciler changed (a study's event stream).
    changed: Callable[[list[Any]], None] = lambda ids: None
    # A kind whose jobs wait, queued, for something else before they are handed to the queue (a
    # filing for its study's analysis) is reconciled only once handed over (``enqueued_at`` set).
    waits_before_handover: bool = False


JOB_KINDS: dict[str, JobKind] = {}


def job_kind_register(kind: JobKind) -> None:
    JOB_KINDS[kind.name] = kind


def job_kind_of(model: type[Job]) -> JobKind:
    return next(kind for kind in JOB_KINDS.values() if kind.model is model)


def abandoned_running(now: datetime.datetime, limits: Limits) -> Q:
    """Running jobs claimed longer ago than the running deadline, which is longer than the hard
    time limit: a live task always ends its job first, so their worker is gone."""
    cutoff = now - datetime.timedelta(seconds=limits.running_deadline_seconds)
    return Q(status=JobStatus.RUNNING) & (Q(started_at__lt=cutoff) | Q(started_at__isnull=True))


def stuck(now: datetime.datetime, limits: Limits) -> Q:
    """Jobs queued past the queued deadline (their message lost), or abandoned running."""
    queued_cutoff = now - datetime.timedelta(seconds=limits.queued_deadline_seconds)
    return Q(status=JobStatus.QUEUED, last_enqueued__lt=queued_cutoff) | abandoned_running(now, limits)


def stuck_jobs(kind: JobKind, now: datetime.datetime) -> models.QuerySet[Any]:
    jobs = kind.model.objects.all()
    if kind.waits_before_handover:
        jobs = jobs.exclude(status=JobStatus.QUEUED, enqueued_at__isnull=True)
    return (
        jobs.annotate(last_enqueued=Coalesce("enqueued_at", "created_at"))
        .filter(stuck(now, kind.limits()))
        .order_by("pk")
    )


@dataclass
class Reconciliation:
    """What one pass of the reconciler did: the ids it enqueued again and failed, by kind."""

    requeued: dict[str, list[Any]] = field(default_factory=dict)
    failed: dict[str, list[Any]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(self.requeued.values()) or any(self.failed.values())


def jobs_reconcile(*, now: datetime.datetime | None = None) -> Reconciliation:
    """Enqueue again, or fail with the kind's message, every job of every kind stuck past its deadline."""
    now = now or timezone.now()
    outcome = Reconciliation()
    requeued_jobs: list[tuple[JobKind, Job]] = []
    with transaction.atomic():
        for kind in JOB_KINDS.values():
            limits = kind.limits()
            requeued, failed = (
                outcome.requeued.setdefault(kind.name, []),
                outcome.failed.setdefault(kind.name, []),
            )
            # Several reconcilers (or a worker claiming) may run at once: each takes what it can lock.
            for job in stuck_jobs(kind, now).select_for_update(skip_locked=True):
                if job.status == JobStatus.RUNNING and job.attempts >= limits.max_attempts:
                    job_fail(job, message=kind.gave_up_interrupted.format(attempts=job.attempts))
                    failed.append(job.pk)
                elif job.requeues >= limits.max_requeues:
                    job_fail(job, message=kind.gave_up_waiting)
                    failed.append(job.pk)
                else:
                    job.status = JobStatus.QUEUED
                    job.claimed_by = ""
                    job.enqueued_at = now
                    job.requeues += 1
                    job_save(job)
                    requeued.append(job.pk)
                    requeued_jobs.append((kind, job))
            if requeued or failed:
                kind.changed(requeued + failed)
    # After the commit, so the worker finds the job queued. A broker still down raises here; the
    # jobs stay queued with this pass counted, and the next pass tries again.
    for kind, args in dict.fromkeys((kind, kind.task_args(job)) for kind, job in requeued_jobs):
        job_enqueue(kind.task, *args)
    if outcome:
        logger.warning("Reconciler: enqueued again %s; failed %s", outcome.requeued, outcome.failed)
    return outcome


def jobs_fail_claimed(kind: JobKind, *, claimant: str, message: str) -> int:
    """Fail the jobs a task claimed and did not finish (its process was killed at the hard limit)."""
    jobs = kind.model.objects.filter(status=JobStatus.RUNNING, claimed_by=claimant)
    ids = list(jobs.values_list("pk", flat=True))
    count = jobs_fail(kind.model.objects.filter(pk__in=ids), message=message)
    kind.changed(ids)
    return count


def in_transaction() -> bool:
    """Whether a transaction of the caller's is open. The one a test case wraps a test in is not
    the caller's (Django marks it): for the code under test, what it wrote is committed."""
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def job_enqueue(task: str, *args: Any) -> None:
    """Hand a task to whatever runs tasks in this run mode, once the caller's transaction commits.

    Deferred, a broker that is down is logged and the job stays queued for the reconciler; called
    outside a transaction, the broker's error reaches the caller, which may still undo its work.
    """
    if in_transaction():
        transaction.on_commit(partial(task_send, task, args), robust=True)
    else:
        task_send(task, args)


def task_send(task: str, args: tuple[Any, ...]) -> None:
    if not settings.CXR_EMBEDDED_TASKS:
        current_app.send_task(task, args=args)
        return
    kind = next(kind for kind in JOB_KINDS.values() if kind.task == task)
    embedded_executor(kind.thread).submit(run_embedded, kind.embedded, *args)


@cache
def embedded_executor(thread: str) -> ThreadPoolExecutor:
    """One thread per name: in embedded mode (a bare machine) a thread of this process runs each
    queue in order, as its worker would, so an upload still answers at once."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"cxr-{thread}")


def run_embedded(work: Callable[..., None], *args: Any) -> None:
    try:
        work(*args)
    except Exception:
        logger.exception("Embedded %s%s failed", work.__name__, args)
    finally:
        close_old_connections()
