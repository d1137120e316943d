"""The day's snapshot of the active model's use, against the latest acceptance run of the same weights.

Per finding: the study-level probabilities of the day's analysed studies against the acceptance
run's scores (the population stability index on the baseline's deciles and the two-sample KS test,
ml.evaluation.drift), the share of studies above the threshold, and the clinicians' agreement with
the finding on those studies; for the day, the share of radiographs the intake refused. The day is
"drifted" when a finding's PSI passes CXR_DRIFT_PSI_THRESHOLD or its KS p-value falls below
CXR_DRIFT_KS_P_VALUE (each judged only with CXR_DRIFT_MIN_STUDIES studies), or the refusal rate
passes CXR_DRIFT_REFUSAL_RATE; every reason is kept with the snapshot.
"""

import datetime
from collections import defaultdict
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from common.jobs import JobStatus
from feedback.models import FindingFeedback, Verdict
from ml.classifier.card import ModelCard
from ml.evaluation.drift import ks_two_sample, population_stability_index
from monitoring.models import AcceptanceRun, DriftSnapshot, IntakeRefusals
from studies.inference import active_model_card
from studies.models import Finding, Study, StudyImage


def intake_refusal_count(*, reason: str = "", **_: Any) -> None:
    """The receiver of studies.images.image_refused: one more refusal today (an atomic increment)."""
    day = timezone.localdate()
    if not IntakeRefusals.objects.filter(day=day).update(refused=F("refused") + 1):
        row, created = IntakeRefusals.objects.get_or_create(day=day, defaults={"refused": 1})
        if not created:
            IntakeRefusals.objects.filter(pk=row.pk).update(refused=F("refused") + 1)


def acceptance_baseline(card: ModelCard) -> AcceptanceRun | None:
    """The latest finished acceptance run of these weights: name and version, and the weights' hash
    where the card knows it (the untrained network's is known only once built)."""
    runs = AcceptanceRun.objects.filter(
        status=JobStatus.DONE, model_card__name=card.name, model_card__version=card.version
    )
    if card.weights_sha256:
        runs = runs.filter(model_card__weights_sha256=card.weights_sha256)
    return runs.order_by("-finished_at", "-pk").first()


def drift_snapshot_compute(*, day: datetime.date) -> DriftSnapshot:
    """Compute (again) the snapshot of ``day`` for the active model, and store it."""
    card = active_model_card()
    baseline = acceptance_baseline(card)
    studies = Study.objects.filter(
        status=JobStatus.DONE,
        created_at__date=day,
        model_card__name=card.name,
        model_card__version=card.version,
    )
    scores: dict[str, list[float]] = defaultdict(list)
    above: dict[str, int] = defaultdict(int)
    for label, probability, positive in Finding.objects.filter(study__in=studies).values_list(
        "label", "probability", "positive"
    ):
        scores[label].append(probability)
        above[label] += int(positive)
    agreement = day_agreement(studies)
    baseline_scores = (baseline.result or {}).get("findings", {}) if baseline else {}
    findings: dict[str, Any] = {}
    reasons: list[str] = []
    for label in card.labels:
        values = np.array(scores.get(label, []), dtype=np.float64)
        entry = finding_drift(values, baseline_scores.get(label, {}).get("scores") or [])
        entry["above_threshold"] = above[label] / values.size if values.size else None
        entry["agreement"] = agreement.get(label)
        findings[label] = entry
        reasons += drift_reasons(label, entry)
    refused = IntakeRefusals.objects.filter(day=day).values_list("refused", flat=True).first() or 0
    taken_in = StudyImage.objects.filter(study__created_at__date=day).count()
    refusal_rate = refused / (refused + taken_in) if refused + taken_in else None
    if refusal_rate is not None and refusal_rate > settings.CXR_DRIFT_REFUSAL_RATE:
        reasons.append(
            f"The intake refused {refusal_rate:.1%} of the day's radiographs "
            f"(over {settings.CXR_DRIFT_REFUSAL_RATE:.1%})."
        )
    snapshot, _ = DriftSnapshot.objects.update_or_create(
        day=day,
        model_name=card.name,
        model_version=card.version,
        defaults={
            "baseline": baseline,
            "studies": studies.count(),
            "refused": refused,
            "refusal_rate": refusal_rate,
            "findings": findings,
            "drifted": bool(reasons),
            "reasons": reasons,
        },
    )
    return snapshot


def finding_drift(values: np.ndarray, baseline: list[float]) -> dict[str, Any]:
    """PSI and KS of the day's scores against the baseline's, with a histogram of each for the page."""
    entry: dict[str, Any] = {
        "studies": int(values.size),
        "psi": None,
        "ks_statistic": None,
        "ks_p_value": None,
    }
    entry["histogram"] = histogram(values)
    entry["baseline_histogram"] = histogram(np.array(baseline, dtype=np.float64))
    if values.size and baseline:
        reference = np.array(baseline, dtype=np.float64)
        entry["psi"] = population_stability_index(reference, values)
        ks = ks_two_sample(reference, values)
        entry["ks_statistic"], entry["ks_p_value"] = ks.statistic, ks.p_value
    return entry


def histogram(values: np.ndarray) -> list[float]:
    """Shares of the scores in ten equal bins of [0, 1] (empty for no scores)."""
    if not values.size:
        return []
    counts, _ = np.histogram(np.clip(values, 0, 1), bins=10, range=(0, 1))
    return (counts / values.size).tolist()


def drift_reasons(label: str, entry: dict[str, Any]) -> list[str]:
    if entry["studies"] < settings.CXR_DRIFT_MIN_STUDIES or entry["psi"] is None:
        return []
    reasons = []
    if entry["psi"] > settings.CXR_DRIFT_PSI_THRESHOLD:
        reasons.append(
            f"{label}: the scores' population stability index is {entry['psi']:.3f} "
            f"(over {settings.CXR_DRIFT_PSI_THRESHOLD:g})."
        )
    if entry["ks_p_value"] < settings.CXR_DRIFT_KS_P_VALUE:
        reasons.append(
            f"{label}: the scores differ from the acceptance baseline's (KS p = {entry['ks_p_value']:.2g}, "
            f"under {settings.CXR_DRIFT_KS_P_VALUE:g})."
        )
    return reasons


def day_agreement(studies: Any) -> dict[str, float]:
    """Agreements among the day's answers that took a side, per finding (unsure counts for neither)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for label, verdict in FindingFeedback.objects.filter(
        Q(verdict=Verdict.AGREE) | Q(verdict=Verdict.DISAGREE), study__in=studies
    ).values_list("label", "verdict"):
        counts[label][0 if verdict == Verdict.AGREE else 1] += 1
    return {label: agree / (agree + disagree) for label, (agree, disagree) in counts.items()}
