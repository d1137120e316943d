"""An acceptance run's figures: a labelled set through the service's own pipeline, then the evaluator.

Each case goes through ``ml.pipeline``'s intake exactly as an upload would (decode, screen: a
refused image counts in the set's refusal rate and has no score) and then the classifier, whose
findings the acceptance is about. Each finding is evaluated on the cases that carry its label
(``ml.evaluation.report.evaluate_findings``, as ``python -m ml evaluate`` does): AUROC and its
bootstrap CI, the sensitivity and specificity at the card's current threshold, the calibration
curve and ECE; the threshold the site's rule chooses, with its own sensitivity and specificity;
then ``ml.evaluation.acceptance`` checks the site's targets. The ROC points and the scores are kept
too: the page draws them, and monitoring compares each day with these scores.
"""

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ml.classifier.card import ModelCard
from ml.classifier.threshold_profile import ThresholdProfile
from ml.errors import DataError
from ml.evaluation import metrics
from ml.evaluation.acceptance import Target, acceptance
from ml.evaluation.metrics import ThresholdRule, to_json_values
from ml.evaluation.predict import score_images
from ml.evaluation.report import evaluate_findings
from ml.pipeline import Pipeline
from monitoring.labelled_sets import LabelledCase

# The ROC curve kept for the page: at most this many points (evenly taken, ends kept).
ROC_POINTS = 200


def labelled_set_evaluate(
    *,
    pipeline: Pipeline,
    cases: list[LabelledCase],
    targets: tuple[Target, ...],
    rule: ThresholdRule,
    resamples: int,
    profile: ThresholdProfile | None = None,
) -> tuple[ModelCard, dict[str, Any]]:
    """The card that scored the set (under ``profile``'s thresholds, a site's active profile, when
    one is given), and the run's result (see the module docstring)."""
    if not cases:
        raise DataError("The set holds no labelled case.")
    with tempfile.TemporaryDirectory(prefix="cxr-acceptance-") as folder:
        # Numbered names: the members' own names were checked, but need not be a file system's.
        paths = [Path(folder) / f"{index:06d}" for index in range(len(cases))]
        for path, case in zip(paths, cases, strict=True):
            path.write_bytes(case.content)
        scored = score_images(None, paths, pipeline=pipeline, progress=False)
    card = profile.apply(scored.card) if profile is not None else scored.card
    accepted = [cases[index] for index in scored.accepted]
    case_of_path = {str(path): case for path, case in zip(paths, cases, strict=True)}
    refusals = {case_of_path[path].name: reason for path, reason in scored.refused.items()}
    findings: dict[str, Any] = {}
    chosen: dict[str, Any] = {}
    for column, label in enumerate(card.labels):
        known = [row for row, case in enumerate(accepted) if label in case.labels]
        if not known:
            continue
        truth = np.array([[accepted[row].labels[label]] for row in known], dtype=np.uint8)
        scores = scored.scores[known, column : column + 1].astype(np.float64)
        findings[label] = finding_figures(truth, scores, label, card.thresholds[label], resamples)
        chosen[label] = rule_threshold(truth, scores, label, rule)
    refusal_rate = len(refusals) / len(cases)
    verdict = acceptance({"findings": findings}, targets, refusal_rate=refusal_rate)
    result = {
        "cases": len(cases),
        "scored": len(accepted),
        "refused": refusals,
        "refusal_rate": refusal_rate,
        "threshold_rule": rule.describe(),
        "findings": findings,
        "chosen_thresholds": chosen,
        "acceptance": verdict,
        "resamples": resamples,
    }
    return card, to_json_values(result)


def finding_figures(
    truth: np.ndarray, scores: np.ndarray, label: str, threshold: float, resamples: int
) -> dict[str, Any]:
    """The evaluator's figures at the card's threshold, the ROC points, and the scores themselves."""
    entry = evaluate_findings(truth, scores, [label], thresholds={label: threshold}, resamples=resamples)
    figures = entry["findings"][label]
    y_true, y_score = truth[:, 0], scores[:, 0]
    if figures["auroc"] is not None:
        fpr, tpr, _ = metrics.roc_curve(y_true, y_score)
        keep = np.unique(np.linspace(0, fpr.size - 1, min(fpr.size, ROC_POINTS)).round().astype(int))
        figures["roc"] = {"fpr": fpr[keep].tolist(), "tpr": tpr[keep].tolist()}
    else:
        figures["roc"] = None
    figures["scores"] = [round(float(value), 6) for value in y_score]
    return figures


def rule_threshold(truth: np.ndarray, scores: np.ndarray, label: str, rule: ThresholdRule) -> dict[str, Any]:
    """The threshold the site's rule picks on these cases, and what it gives; none without both classes."""
    entry = evaluate_findings(truth, scores, [label], thresholds=rule, resamples=1)["findings"][label]
    return {"threshold": entry["threshold"], "sensitivity": entry["tpr"], "specificity": entry["tnr"]}
