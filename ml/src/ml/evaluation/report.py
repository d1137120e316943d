"""Per-finding evaluation figures, and the files that report them.

``evaluate_findings`` turns (cases x findings) truth and scores into the content of
``metrics.json``; ``write_evaluation`` writes that file, the PNG plots and ``report.md``.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ml.evaluation import metrics
from ml.evaluation.binary import INTERVAL_METRICS, describe_operating_point, operating_point
from ml.evaluation.metrics import ThresholdRule, to_json_values

_RATE_KEYS = (
    "tpr",
    "tnr",
    "ppv",
    "npv",
    "accuracy",
    "balanced_accuracy",
    "f1",
    "fowlkes_mallows",
    "mcc",
    "precision",
    "recall",
    "specificity",
)


def evaluate_findings(
    truth: np.ndarray,
    scores: np.ndarray,
    findings: tuple[str, ...] | list[str],
    *,
    thresholds: ThresholdRule | Mapping[str, float],
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """AUROC with its bootstrap CI, AP, the operating point of each finding
    (``ml.evaluation.binary.operating_point``: confusion matrix, rates, their bootstrap CIs) and,
    where the scores are probabilities (all in [0, 1]), their calibration (``metrics.calibration``).

    ``thresholds`` is a rule applied to each finding's own cases, or a fixed threshold per
    finding (e.g. a model card's). A finding lacking positives or negatives has no AUROC
    and, under a rule, no threshold. Undefined numbers are None, ready for JSON.
    """
    truth = np.asarray(truth)
    scores = np.asarray(scores, dtype=np.float64)
    if truth.shape != scores.shape or truth.ndim != 2 or truth.shape[1] != len(findings):
        raise ValueError(
            f"truth {truth.shape} and scores {scores.shape} do not fit {len(findings)} findings."
        )
    if truth.shape[0] == 0:
        raise ValueError("There are no cases to evaluate.")
    bootstrap = metrics.bootstrap_auroc(truth, scores, resamples=resamples, seed=seed, level=level)
    probabilities = bool(np.isfinite(scores).all() and scores.min() >= 0 and scores.max() <= 1)
    results: dict[str, Any] = {}
    areas: list[float] = []
    for column, finding in enumerate(findings):
        y_true, y_score = truth[:, column], scores[:, column]
        area = metrics.auroc(y_true, y_score)
        if not math.isnan(area):
            areas.append(area)
        entry: dict[str, Any] = {
            "positives": int(y_true.sum()),
            "negatives": int(len(y_true) - y_true.sum()),
            "auroc": area,
            "auroc_ci95": bootstrap.intervals[column],
            "average_precision": metrics.average_precision(y_true, y_score),
            "calibration": metrics.calibration(y_true, y_score).to_dict() if probabilities else None,
        }
        if isinstance(thresholds, ThresholdRule):
            method = thresholds.describe()
            both_classes = 0 < entry["positives"] < len(y_true)
            threshold = (
                metrics.choose_threshold(y_true, y_score, thresholds)
                if both_classes or thresholds.kind == "fixed"
                else None
            )
        else:
            method = "given"
            threshold = float(thresholds[finding])
        entry["threshold"] = threshold
        entry["threshold_method"] = method
        if threshold is not None:
            entry.update(
                operating_point(y_true, y_score, threshold, resamples=resamples, seed=seed, level=level)
            )
        else:
            entry["confusion_matrix"] = None
            entry.update(dict.fromkeys(_RATE_KEYS))
            entry["ci95"] = dict.fromkeys(INTERVAL_METRICS)
        results[finding] = entry
    return to_json_values(
        {
            "mean_auroc": float(np.mean(areas)) if areas else None,
            "mean_auroc_ci95": bootstrap.mean_interval,
            "findings_in_mean": len(areas),
            "cases": int(truth.shape[0]),
            "bootstrap": {"resamples": resamples, "seed": seed, "level": level},
            "findings": results,
        }
    )


def write_evaluation(
    out_dir: str | os.PathLike[str],
    result: dict[str, Any],
    truth: np.ndarray,
    scores: np.ndarray,
    *,
    title: str = "Evaluation",
    details: Mapping[str, Any] | None = None,
    summary: tuple[str, ...] | list[str] = (),
    plots: bool = True,
) -> Path:
    """Write ``metrics.json`` (``result`` plus ``details``), the plots and ``report.md``; return the report.

    ``summary`` lines (where the scores and truth came from) open the Markdown report.
    """
    out_dir = Path(out_dir)
    plot_dir = out_dir / "plots"
    plot_dir.mkdir(parents=True, exist_ok=True)
    document = dict(details or {})
    document.update(result)
    findings = list(result["findings"])
    if plots:
        from ml.evaluation import plots as plotting

        curves: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}
        used: set[str] = set()
        for column, finding in enumerate(findings):
            entry = result["findings"][finding]
            if entry["auroc"] is None:
                continue
            name = _file_name(finding, used)
            y_true, y_score = truth[:, column], scores[:, column]
            png = plotting.finding_figure(
                y_true,
                y_score,
                finding=finding,
                threshold=entry["threshold"],
                auroc=entry["auroc"],
                auroc_ci95=entry["auroc_ci95"],
                calibration=entry["calibration"],
            )
            (plot_dir / f"{name}.png").write_bytes(png)
            entry["plot"] = f"plots/{name}.png"
            fpr, tpr, _ = metrics.roc_curve(y_true, y_score)
            curves[finding] = (fpr, tpr, entry["auroc"])
        if curves:
            (plot_dir / "roc_all.png").write_bytes(plotting.overview_figure(curves))
            document["roc_plot"] = "plots/roc_all.png"
    (out_dir / "metrics.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    report = out_dir / "report.md"
    report.write_text(markdown_report(document, title=title, summary=summary), encoding="utf-8")
    return report


def markdown_report(
    document: Mapping[str, Any], *, title: str, summary: tuple[str, ...] | list[str] = ()
) -> str:
    """A Markdown page with the summary table, each finding's operating point and plots."""
    lines = [f"# {title}", ""]
    lines += [f"- {line}" for line in summary]
    mean = document.get("mean_auroc")
    ci = document.get("mean_auroc_ci95")
    level = document.get("bootstrap", {}).get("level", 0.95)
    resamples = document.get("bootstrap", {}).get("resamples")
    lines += [
        f"- cases: {document.get('cases')}"
        + (
            f" (images aggregated by {document['aggregated_by']}, "
            f"{document.get('aggregation_rule') or 'mean'} of their scores)"
            if document.get("aggregated_by")
            else ""
        ),
        f"- mean AUROC over {document.get('findings_in_mean')} findings: {_number(mean)}"
        + (f" ({100 * level:g}% CI {_interval(ci)})" if ci else ""),
        f"- confidence intervals: percentile bootstrap, {resamples} resamples, seed "
        f"{document.get('bootstrap', {}).get('seed')}",
        "",
        "| finding | positives | AUROC | 95% CI | AP | threshold | sensitivity | specificity | PPV | NPV "
        "| F1 | MCC | ECE |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    findings = document["findings"]
    for finding, entry in findings.items():
        lines.append(
            f"| {finding} | {entry['positives']}/{entry['positives'] + entry['negatives']} "
            f"| {_number(entry['auroc'])} | {_interval(entry['auroc_ci95'])} "
            f"| {_number(entry['average_precision'])} | {_number(entry['threshold'])} "
            f"| {_number(entry['tpr'])} | {_number(entry['tnr'])} | {_number(entry['ppv'])} "
            f"| {_number(entry['npv'])} | {_number(entry['f1'])} | {_number(entry['mcc'])} "
            f"| {_number((entry.get('calibration') or {}).get('ece'))} |"
        )
    methods = sorted({entry["threshold_method"] for entry in findings.values()})
    lines += ["", f"Thresholds: {', '.join(methods)}; a case is positive when its score ≥ the threshold.", ""]
    if document.get("acceptance"):
        from ml.evaluation.acceptance import describe_acceptance

        lines += ["## Site acceptance", ""]
        lines += [f"- {line}" for line in describe_acceptance(document["acceptance"])]
        lines.append("")
    if document.get("roc_plot"):
        lines += [f"![ROC curves of all findings]({document['roc_plot']})", ""]
    for finding, entry in findings.items():
        lines += [f"## {finding}", ""]
        matrix = entry.get("confusion_matrix")
        if matrix:
            lines += [
                f"At threshold {_number(entry['threshold'])} ({entry['threshold_method']}):",
                "",
                "| | predicted positive | predicted negative |",
                "| --- | ---: | ---: |",
                f"| **actual positive** | {matrix['tp']} (TP) | {matrix['fn']} (FN) |",
                f"| **actual negative** | {matrix['fp']} (FP) | {matrix['tn']} (TN) |",
                "",
                f"Accuracy {_number(entry['accuracy'])}, "
                f"balanced accuracy {_number(entry['balanced_accuracy'])}, "
                f"Fowlkes-Mallows {_number(entry['fowlkes_mallows'])}.",
                "",
                f"With {100 * level:g}% bootstrap CIs at this threshold: {describe_operating_point(entry)}.",
                "",
            ]
        else:
            lines += ["No threshold: the cases lack positives or negatives for this finding.", ""]
        if entry.get("plot"):
            lines += [f"![{finding}: ROC, precision-recall, DET and calibration curves]({entry['plot']})", ""]
    return "\n".join(lines)


def _file_name(finding: str, used: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", finding).strip("._") or "finding"
    name, number = base, 1
    while name.lower() in used:
        number += 1
        name = f"{base}-{number}"
    used.add(name.lower())
    return name


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _interval(value: list[float] | tuple[float, float] | None) -> str:
    return "-" if not value else f"[{value[0]:.3f}, {value[1]:.3f}]"


# The same formatting for other analysers' reports (the screener's table).
format_number = _number
format_interval = _interval
