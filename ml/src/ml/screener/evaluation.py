"""The screener's figures on labelled images: AUROC with its CI, and its operating points.

Everything is computed by ``ml.evaluation``: the AUROC and its percentile bootstrap
interval (``metrics``), the confusion matrix at a threshold with bootstrap intervals of
sensitivity and specificity drawn from the same resamples (``binary.operating_point``, the
threshold held fixed), and the threshold reaching a sensitivity ("sensitivity:x", the
highest such threshold, i.e. the most specific one). A screener's operating point is set for sensitivity:
it flags studies for attention and never clears one as normal by itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ml.evaluation.binary import operating_point
from ml.evaluation.metrics import ThresholdRule, auroc, bootstrap_auroc, choose_threshold, to_json_values
from ml.evaluation.report import format_interval, format_number


def screener_point(
    truth: np.ndarray, scores: np.ndarray, threshold: float, *, resamples: int, seed: int, level: float
) -> dict[str, Any]:
    """``ml.evaluation.binary.operating_point`` at ``threshold``, under a screener's names.

    Adds ``sensitivity``/``specificity`` with their bootstrap CIs (``*_ci95``) and
    ``threshold`` to the shared figures (confusion matrix, rates, ``ci95`` of each).
    """
    point = operating_point(truth, scores, threshold, resamples=resamples, seed=seed, level=level)
    return {
        "threshold": float(threshold),
        "sensitivity_ci95": point["ci95"]["recall"],
        "specificity_ci95": point["ci95"]["specificity"],
        **point,
        "sensitivity": point["recall"],
    }


def screener_figures(
    truth: np.ndarray,
    scores: np.ndarray,
    *,
    target_sensitivity: float,
    card_threshold: float | None = None,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """AUROC (bootstrap CI), the point at the card's threshold (if given) and the one reaching
    ``target_sensitivity``. ``truth`` is 1 for abnormal; undefined numbers are None (JSON-ready).

    Raises ValueError unless both normal and abnormal images are present.
    """
    truth = np.asarray(truth).astype(np.uint8).ravel()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if truth.shape != scores.shape:
        raise ValueError(f"{truth.size} labels for {scores.size} scores.")
    abnormal = int(truth.sum())
    if abnormal in (0, truth.size):
        raise ValueError("The figures need both normal and abnormal images.")
    rule = ThresholdRule("sensitivity", target_sensitivity)
    options = {"resamples": resamples, "seed": seed, "level": level}
    bootstrap = bootstrap_auroc(truth, scores, resamples=resamples, seed=seed, level=level)
    figures: dict[str, Any] = {
        "images": int(truth.size),
        "abnormal": abnormal,
        "normal": int(truth.size) - abnormal,
        "auroc": auroc(truth, scores),
        "auroc_ci95": bootstrap.intervals[0],
        "bootstrap": {"resamples": resamples, "seed": seed, "level": level},
        "at_card_threshold": None,
        "at_target_sensitivity": {
            "target": target_sensitivity,
            **screener_point(truth, scores, choose_threshold(truth, scores, rule), **options),
        },
    }
    if card_threshold is not None:
        figures["at_card_threshold"] = screener_point(truth, scores, card_threshold, **options)
    return to_json_values(figures)


def figures_table(figures: dict[str, Any]) -> str:
    """The figures as a short table for a terminal."""
    lines = [
        f"images: {figures['images']} ({figures['abnormal']} abnormal, {figures['normal']} normal)",
        f"AUROC:  {format_number(figures['auroc'])}  95% CI {format_interval(figures['auroc_ci95'])}",
        "",
        f"{'operating point':<28}{'threshold':>10}  {'sensitivity (95% CI)':<26}{'specificity (95% CI)':<26}",
    ]
    points = [("card threshold", figures["at_card_threshold"])]
    target = figures["at_target_sensitivity"]
    points.append((f"sensitivity >= {target['target']:g}", target))
    for name, point in points:
        if point is None:
            continue
        lines.append(
            f"{name:<28}{point['threshold']:>10.4f}  "
            f"{format_number(point['sensitivity']) + ' ' + format_interval(point['sensitivity_ci95']):<26}"
            f"{format_number(point['specificity']) + ' ' + format_interval(point['specificity_ci95']):<26}"
        )
    return "\n".join(lines)
