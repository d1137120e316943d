"""Writes of monitoring: an acceptance run started, executed (a job of common.jobs), and its profile."""

import logging
import uuid
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from accounts.models import User
from audit.models import AuditAction
from audit.services import audit_record
from common.errors import DomainError
from common.jobs import JobStatus, claimable, job_done, job_enqueue, job_enqueued, job_fail, jobs_claim
from deployments.models import ModelVersion
from deployments.selectors import DeployedModel, deployment_active
from ml.classifier.card import ModelCard
from ml.classifier.threshold_profile import ThresholdProfile, profile_make
from ml.errors import DataError, ImageError, WeightsError
from ml.evaluation.acceptance import parse_targets
from ml.evaluation.metrics import ThresholdRule
from monitoring.acceptance import labelled_set_evaluate
from monitoring.dispatch import ACCEPTANCE, RUN_ACCEPTANCE
from monitoring.feedback_cases import feedback_cases
from monitoring.labelled_sets import LabelledCase, labelled_set_read
from monitoring.models import AcceptanceRun, AcceptanceSource
from studies.inference import active_model_card, classifier_pipeline, ready_pipeline

logger = logging.getLogger(__name__)


def acceptance_settings_check(*, targets: str, threshold_rule: str) -> tuple[str, str]:
    """The targets and rule as the evaluator reads them, or a 400 naming the field."""
    try:
        parse_targets(targets)
    except ValueError as error:
        raise DomainError(str(error), extra={"field": "targets"}) from error
    try:
        rule = ThresholdRule.parse(threshold_rule)
    except ValueError as error:
        raise DomainError(str(error), extra={"field": "threshold_rule"}) from error
    if rule.kind == "fixed":
        raise DomainError(
            "The site's thresholds are chosen by a rule (sensitivity:0.9, f1, youden ...), not fixed.",
            extra={"field": "threshold_rule"},
        )
    return targets, rule.describe()


def acceptance_run_create(
    *,
    user: User,
    source: str,
    targets: str,
    threshold_rule: str,
    archive: bytes | None = None,
    labels_csv: bytes | None = None,
    model_version: ModelVersion | None = None,
    request: Any = None,
) -> AcceptanceRun:
    """Check the set and the settings (nothing is stored if any is wrong), keep the set, queue the run
    of ``model_version`` (installed weights, a candidate) or, None, of the active deployment."""
    targets, threshold_rule = acceptance_settings_check(targets=targets, threshold_rule=threshold_rule)
    labels = acceptance_model(model_version).card().labels
    cases = 0
    if source == AcceptanceSource.UPLOAD:
        if not archive or not labels_csv:
            raise DomainError(
                "An uploaded set needs the zip of images and the labels CSV.",
                extra={"field": "images" if not archive else "labels"},
            )
        cases = len(labelled_set_read(archive=archive, labels_csv=labels_csv, labels=labels))
    else:
        cases = len(feedback_cases(card=active_model_card(), with_images=False))
        if not cases:
            raise DomainError(
                "No analysed study of the active model has a clinician's verdict to serve as its label.",
                extra={"field": "source"},
            )
    with transaction.atomic():
        run = AcceptanceRun(
            created_by=user,
            source=source,
            targets=targets,
            threshold_rule=threshold_rule,
            labels_csv=labels_csv.decode("utf-8-sig") if labels_csv else "",
            model_version=model_version,
        )
        job_enqueued(run)
        run.save()
        if archive:
            run.archive.save(f"acceptance/{run.pk}/{uuid.uuid4().hex}.zip", ContentFile(archive), save=True)
        audit_record(
            action=AuditAction.ACCEPTANCE_RUN,
            request=request,
            actor=user,
            target_type="acceptance_run",
            target_id=run.pk,
            detail={
                "source": source,
                "cases": cases,
                "targets": targets,
                "threshold_rule": threshold_rule,
                "model": f"{model_version.name} {model_version.version}" if model_version else "active",
            },
        )
        job_enqueue(RUN_ACCEPTANCE, run.pk)
    return run


def acceptance_run_execute(*, run_id: int, claimant: str) -> None:
    """Claim the run, score its set through the pipeline and store the figures; a set that cannot be
    evaluated fails the run with the reason (the worker's own death is the reconciler's)."""
    with transaction.atomic():
        locked = list(AcceptanceRun.objects.select_for_update().filter(claimable(claimant), pk=run_id))
        claimed = jobs_claim(ACCEPTANCE, locked, claimant=claimant)
    if not claimed:
        return
    run = claimed[0]
    model = acceptance_model(run.model_version)
    try:
        card, result = labelled_set_evaluate(
            pipeline=classifier_pipeline(model, default=ready_pipeline()),
            profile=model.profile,
            cases=run_cases(run),
            targets=parse_targets(run.targets),
            rule=ThresholdRule.parse(run.threshold_rule),
            resamples=settings.CXR_ACCEPTANCE_BOOTSTRAP_RESAMPLES,
        )
    except (DataError, DomainError, ImageError) as error:
        job_fail(run, message=f"The set could not be evaluated: {error}")
        return
    except SoftTimeLimitExceeded:
        job_fail(
            run,
            message=(
                f"The run took longer than {settings.CXR_ACCEPTANCE_TIME_LIMIT_SECONDS} s "
                "(CXR_ACCEPTANCE_TIME_LIMIT_SECONDS): run a smaller set, or raise the limit."
            ),
        )
        return
    except Exception as error:
        logger.exception("Acceptance run %s failed", run.pk)
        job_fail(run, message=f"The acceptance run failed: {error}")
        return
    run.model_card = card.to_dict()
    run.result = result
    job_done(run, "model_card", "result")


def acceptance_model(model_version: ModelVersion | None) -> DeployedModel:
    """What a run accepts: the installed weights it names (their card's thresholds), or the active
    deployment (its site profile's)."""
    if model_version is None:
        return deployment_active()
    return DeployedModel(deployment_id=None, weights_dir=model_version.weights_dir or None, profile=None)


def run_cases(run: AcceptanceRun) -> list[LabelledCase]:
    labels = active_model_card().labels
    if run.source == AcceptanceSource.UPLOAD:
        with run.archive.open("rb") as handle:
            archive = handle.read()
        return labelled_set_read(archive=archive, labels_csv=run.labels_csv.encode(), labels=labels)
    return feedback_cases(card=active_model_card(), with_images=True)


def acceptance_run_profile(*, run: AcceptanceRun, name: str) -> ThresholdProfile:
    """The thresholds the run's rule chose, as a threshold profile (ml's format) bound to the weights
    the run scored with; numbered by the runs of these weights before it. A 409 when there is none."""
    if run.status != JobStatus.DONE or not run.result:
        raise DomainError("The run has no result yet.", status_code=409, extra={"status": run.status})
    card = ModelCard.from_dict(run.model_card)
    chosen = run.result["chosen_thresholds"]
    version = AcceptanceRun.objects.filter(
        status=JobStatus.DONE,
        model_card__weights_sha256=card.weights_sha256,
        created_at__lte=run.created_at,
    ).count()
    try:
        return profile_make(
            name=name,
            version=version,
            card=card,
            rule=run.result["threshold_rule"],
            thresholds={
                label: entry["threshold"] for label, entry in chosen.items() if entry["threshold"] is not None
            },
            evidence={
                "acceptance_run": run.pk,
                "source": run.source,
                "cases": run.result["cases"],
                "kept_card_threshold": sorted(
                    label for label in card.labels if chosen.get(label, {}).get("threshold") is None
                ),
            },
        )
    except WeightsError as error:
        raise DomainError(str(error), extra={"field": "name"}) from error
    except DataError as error:
        raise DomainError(str(error), status_code=409, extra={"trained": card.trained}) from error
