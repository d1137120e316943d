"""The acceptance run as a kind of background work (common.jobs): claimed, failed and reconciled like
a study's analysis, on the findings worker's queue (it needs the classifier that worker builds)."""

from dataclasses import replace

from django.conf import settings

from common.jobs import JobKind, Limits, default_limits, job_kind_register
from monitoring.models import AcceptanceRun

RUN_ACCEPTANCE = "monitoring.run_acceptance"


def acceptance_run_embedded(run_id: int) -> None:
    # Imported here: the services import this module for the kind they claim with.
    from monitoring.services import acceptance_run_execute

    acceptance_run_execute(run_id=run_id, claimant="embedded")


def acceptance_limits() -> Limits:
    # A set of hundreds of images runs longer than a study's analysis: its own hard time limit
    # (the task's), and a running deadline past it so that the reconciler never takes a live run.
    return replace(default_limits(), running_deadline_seconds=settings.CXR_ACCEPTANCE_TIME_LIMIT_SECONDS + 60)


ACCEPTANCE = JobKind(
    name="acceptance_run",
    model=AcceptanceRun,
    task=RUN_ACCEPTANCE,
    task_args=lambda run: (run.pk,),
    embedded=acceptance_run_embedded,
    # Behind the analyses queued before it, as on the findings worker.
    thread="analysis",
    gave_up_waiting=(
        "The acceptance run waited too long for the analysis worker (it may have been down). Start it again."
    ),
    gave_up_interrupted=(
        "The acceptance run was interrupted {attempts} times (the analysis worker stopped). "
        "Start it again, perhaps with a smaller set."
    ),
    limits=acceptance_limits,
)
job_kind_register(ACCEPTANCE)
