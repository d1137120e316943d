"""Reads of monitoring: acceptance runs, and the snapshots of the active model over time."""

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from common.errors import NotFoundError
from monitoring.models import AcceptanceRun, DriftSnapshot
from studies.inference import active_model_card

RUNS_LISTED = 50


def acceptance_run_list() -> QuerySet[AcceptanceRun]:
    return AcceptanceRun.objects.select_related("created_by", "model_version").order_by("-created_at")[
        :RUNS_LISTED
    ]


def acceptance_run_get(*, run_id: int) -> AcceptanceRun:
    run = AcceptanceRun.objects.select_related("created_by", "model_version").filter(pk=run_id).first()
    if run is None:
        raise NotFoundError("No such acceptance run.")
    return run


def drift_snapshot_list(*, days: int) -> QuerySet[DriftSnapshot]:
    """The active model's snapshots of the last ``days`` days, oldest first."""
    card = active_model_card()
    since = timezone.localdate() - datetime.timedelta(days=days)
    return DriftSnapshot.objects.filter(
        model_name=card.name, model_version=card.version, day__gt=since
    ).order_by("day")


def drift_snapshot_latest() -> DriftSnapshot | None:
    card = active_model_card()
    return (
        DriftSnapshot.objects.filter(model_name=card.name, model_version=card.version)
        .order_by("-day")
        .first()
    )
