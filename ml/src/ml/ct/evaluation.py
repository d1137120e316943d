"""``python -m ml evaluate-ct``: every slice scored, pooled per patient, and the patient-level figures.

The figures are ``ml.evaluation.binary.binary_report``'s (AUROC with its CI, the threshold,
the confusion matrix, accuracy, precision, recall, specificity and F1 with CIs), over
patients. OUT/ gets slice_scores.csv, patient_scores.csv, metrics.json and report.md.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ml.ct.analyser import CTAnalyser
from ml.ct.mosmed import Volume
from ml.ct.series import read_nifti
from ml.errors import DataError, ImageError
from ml.evaluation.binary import INTERVAL_METRICS, binary_report
from ml.evaluation.grouping import pool
from ml.evaluation.metrics import ThresholdRule


@dataclass(frozen=True)
class CTEvaluation:
    """Each volume's slice probabilities and pooled probability, and the patient-level report."""

    volumes: tuple[Volume, ...]
    slice_probabilities: tuple[np.ndarray, ...]
    patient_probabilities: np.ndarray
    report: dict[str, Any]


def evaluate_ct(
    analyser: CTAnalyser,
    volumes: list[Volume],
    *,
    rule: str,
    threshold: ThresholdRule | float,
    resamples: int = 1000,
    seed: int = 0,
) -> CTEvaluation:
    """Score every volume slice by slice, pool each by ``rule``, and report over patients."""
    slices = []
    for volume in volumes:
        try:
            series = read_nifti(volume.path)
        except ImageError as error:
            raise DataError(f"{volume.path}: {error}") from error
        slices.append(analyser.score_slices(series.hounsfield))
    patients = np.array([pool(scores, rule) for scores in slices])
    truth = np.array([volume.label for volume in volumes], dtype=np.uint8)
    report = binary_report(truth, patients, threshold=threshold, resamples=resamples, seed=seed)
    return CTEvaluation(tuple(volumes), tuple(slices), patients, report)


def write_ct_evaluation(out: Path, evaluation: CTEvaluation, details: dict[str, Any]) -> None:
    """Write slice_scores.csv, patient_scores.csv, metrics.json (``details`` + report) and report.md."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "slice_scores.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient", "grade", "slice", "probability"])
        for volume, scores in zip(evaluation.volumes, evaluation.slice_probabilities, strict=True):
            writer.writerows(
                [volume.patient, volume.grade, index, f"{s:.7g}"] for index, s in enumerate(scores)
            )
    with (out / "patient_scores.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient", "grade", "label", "slices", "probability"])
        for volume, scores, probability in zip(
            evaluation.volumes, evaluation.slice_probabilities, evaluation.patient_probabilities, strict=True
        ):
            writer.writerow([volume.patient, volume.grade, volume.label, len(scores), f"{probability:.7g}"])
    document = {**details, **evaluation.report}
    (out / "metrics.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    (out / "report.md").write_text(ct_markdown(document), encoding="utf-8")


def ct_table(report: dict[str, Any]) -> str:
    """The patient-level figures as a small text table (value and 95% CI per metric)."""
    lines = [
        f"patients: {report['cases']} ({report['positives']} positive, {report['negatives']} negative)",
        f"{'metric':<12}  value  95% CI",
        f"{'AUROC':<12}  {_cell(report['auroc'])}  {_interval(report['auroc_ci95'])}",
    ]
    if report["threshold"] is None:
        return "\n".join([*lines, "no threshold: the patients lack positives or negatives"])
    lines += [
        f"{name:<12}  {_cell(report[name])}  {_interval(report['ci95'][name])}" for name in INTERVAL_METRICS
    ]
    matrix = report["confusion_matrix"]
    lines += [
        f"threshold {report['threshold']:.4f} ({report['threshold_method']}); "
        f"confusion matrix: TP {matrix['tp']}, FP {matrix['fp']}, TN {matrix['tn']}, FN {matrix['fn']}"
    ]
    return "\n".join(lines)


def ct_markdown(document: dict[str, Any]) -> str:
    model = document.get("model", {})
    lines = [
        "# CT evaluation (per patient)",
        "",
        f"- model: {model.get('name')} {model.get('version')}"
        + ("" if model.get("trained", True) else " (UNTRAINED: its outputs are random)"),
        f"- data: `{document.get('data')}`, positive grades {', '.join(document.get('positive_grades', []))}",
        f"- patient result: {document.get('aggregation')} of its slices' probabilities",
        f"- confidence intervals: percentile bootstrap over patients, {document['bootstrap']['resamples']} "
        f"resamples, seed {document['bootstrap']['seed']}; the threshold is held fixed in the resamples",
        "",
        "```",
        ct_table(document),
        "```",
        "",
    ]
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "    -" if value is None else f"{value:.3f}"


def _interval(value: list[float] | None) -> str:
    return "-" if not value else f"[{value[0]:.3f}, {value[1]:.3f}]"
