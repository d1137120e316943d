"""The figures of one binary decision, the same for every analyser: AUROC with its CI, the
operating threshold, the confusion matrix there, and accuracy, precision, recall,
specificity and F1 with bootstrap CIs.

The CIs of the threshold metrics are percentile bootstraps at the chosen threshold, held
fixed (the threshold is not re-chosen in each resample), drawn from the same resamples as
the AUROC's (``metrics.resample_counts``, one seed). A resample where a metric is
undefined (no predicted positives for precision, say) is skipped for that metric.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ml.evaluation import metrics
from ml.evaluation.metrics import ThresholdRule, to_json_values

INTERVAL_METRICS = ("accuracy", "precision", "recall", "specificity", "f1")


def binary_report(
    y_true: np.ndarray,
    scores: np.ndarray,
    *,
    threshold: ThresholdRule | float,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """Everything reported for one binary decision over cases (patients, studies or images).

    ``threshold`` is a rule applied to these cases (e.g. F1) or a given value (a card's).
    Undefined numbers are None, ready for JSON.
    """
    y_true = np.asarray(y_true).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    if y_true.ndim != 1 or y_true.shape != scores.shape or y_true.size == 0:
        raise ValueError(
            f"Expected non-empty 1-D truth and scores of one length, got {y_true.shape}, {scores.shape}."
        )
    positives = int(y_true.sum())
    both_classes = 0 < positives < y_true.size
    bootstrap = metrics.bootstrap_auroc(y_true, scores, resamples=resamples, seed=seed, level=level)
    if isinstance(threshold, ThresholdRule):
        method = threshold.describe()
        chosen = (
            metrics.choose_threshold(y_true, scores, threshold)
            if both_classes or threshold.kind == "fixed"
            else None
        )
    else:
        method, chosen = "given", float(threshold)
    report: dict[str, Any] = {
        "cases": int(y_true.size),
        "positives": positives,
        "negatives": int(y_true.size - positives),
        "auroc": metrics.auroc(y_true, scores),
        "auroc_ci95": bootstrap.intervals[0],
        "threshold": chosen,
        "threshold_method": method,
    }
    if chosen is None:
        report.update(confusion_matrix=None, ci95=dict.fromkeys(INTERVAL_METRICS))
        report.update(dict.fromkeys(INTERVAL_METRICS))
    else:
        report.update(operating_point(y_true, scores, chosen, resamples=resamples, seed=seed, level=level))
    report["bootstrap"] = {"resamples": resamples, "seed": seed, "level": level}
    return to_json_values(report)


def operating_point(
    y_true: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    *,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """The confusion matrix of calling ``scores >= threshold`` positive, its rates, and their CIs.

    Keys: ``confusion_matrix`` ({tp, fp, tn, fn}), the rates of ``metrics.Confusion.rates``
    (tpr, tnr, ppv, npv, accuracy, balanced_accuracy, f1, fowlkes_mallows, mcc), the same
    under their everyday names (precision = ppv, recall = tpr, specificity = tnr), and
    ``ci95``: {accuracy, precision, recall, specificity, f1} -> [low, high] or None.
    """
    y_true = np.asarray(y_true).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    confusion = metrics.confusion_at(y_true, scores, threshold)
    rates = confusion.rates()
    predicted = scores >= threshold
    cells = np.stack([predicted & y_true, predicted & ~y_true, ~predicted & ~y_true, ~predicted & y_true])
    values = np.full((resamples, len(INTERVAL_METRICS)), np.nan)
    for start, counts in metrics.resample_counts(y_true.size, resamples, seed):
        tp, fp, tn, fn = (counts @ cell.astype(np.float64) for cell in cells)
        with np.errstate(invalid="ignore", divide="ignore"):
            values[start : start + len(counts)] = np.stack(
                [
                    (tp + tn) / (tp + tn + fp + fn),
                    tp / (tp + fp),
                    tp / (tp + fn),
                    tn / (tn + fp),
                    2 * tp / (2 * tp + fp + fn),
                ],
                axis=1,
            )
    tails = (100.0 * (1.0 - level) / 2.0, 100.0 * (1.0 + level) / 2.0)
    intervals = {}
    for column, name in enumerate(INTERVAL_METRICS):
        finite = values[:, column][np.isfinite(values[:, column])]
        intervals[name] = (
            [float(bound) for bound in np.percentile(finite, tails)] if finite.size >= 2 else None
        )
    return {
        "confusion_matrix": {"tp": confusion.tp, "fp": confusion.fp, "tn": confusion.tn, "fn": confusion.fn},
        **rates,
        "precision": rates["ppv"],
        "recall": rates["tpr"],
        "specificity": rates["tnr"],
        "ci95": intervals,
    }


def describe_operating_point(report: dict[str, Any]) -> str:
    """One line: the threshold and each metric with its CI, for tables and logs."""
    if report.get("threshold") is None:
        return "no threshold (the cases lack positives or negatives)"
    parts = [f"threshold {report['threshold']:.3f} ({report['threshold_method']})"]
    for name in INTERVAL_METRICS:
        value, interval = report.get(name), report["ci95"].get(name)
        text = "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"
        if interval:
            text += f" [{interval[0]:.3f}, {interval[1]:.3f}]"
        parts.append(f"{name} {text}")
    return ", ".join(parts)
