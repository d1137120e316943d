"""PNG plots of ROC, precision-recall, DET and calibration curves, drawn with Matplotlib's object API.

Figures are built with ``matplotlib.figure.Figure`` and the Agg canvas rather than
``pyplot``, so plotting needs no display, keeps no global state and is safe in any thread.
"""

from __future__ import annotations

import io
from statistics import NormalDist
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ml.evaluation import metrics

# DET axes show error rates on a normal-deviate scale; rates of 0 or 1 sit at infinity, so
# the axes stop at these bounds.
_DET_LIMITS = (0.001, 0.999)
_DET_TICKS = (0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95, 0.99, 0.999)
_PROBIT = np.vectorize(NormalDist().inv_cdf)


def finding_figure(
    y_true: np.ndarray,
    scores: np.ndarray,
    *,
    finding: str,
    threshold: float | None,
    auroc: float,
    auroc_ci95: tuple[float, float] | None,
    calibration: dict[str, Any] | None = None,
) -> bytes:
    """One PNG with the finding's ROC, precision-recall and DET curves, the threshold marked, and,
    for probabilities, their reliability curve (``metrics.Calibration.to_dict``)."""
    panels = 4 if calibration is not None else 3
    figure = Figure(figsize=(4.5 * panels, 4.3), dpi=100, layout="constrained")
    roc_axes, pr_axes, det_axes, *calibration_axes = figure.subplots(1, panels)
    ci = f" [{auroc_ci95[0]:.3f}, {auroc_ci95[1]:.3f}]" if auroc_ci95 else ""
    figure.suptitle(f"{finding}: AUROC {auroc:.3f}{ci}, {int(np.sum(y_true))} of {len(y_true)} positive")
    operating = metrics.confusion_at(y_true, scores, threshold).rates() if threshold is not None else None

    fpr, tpr, _ = metrics.roc_curve(y_true, scores)
    roc_axes.plot(fpr, tpr, color="tab:blue", linewidth=1.8)
    roc_axes.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    _square(roc_axes, "ROC", "false positive rate (1 - specificity)", "true positive rate (sensitivity)")

    precision, recall, _ = metrics.precision_recall_curve(y_true, scores)
    pr_axes.step(recall, precision, where="post", color="tab:green", linewidth=1.8)
    prevalence = float(np.mean(y_true))
    pr_axes.axhline(prevalence, color="grey", linestyle=":", linewidth=1)
    ap = metrics.average_precision(y_true, scores)
    _square(pr_axes, f"Precision-recall (AP {ap:.3f})", "recall (sensitivity)", "precision (PPV)")

    det_fpr, det_fnr, _ = metrics.det_curve(y_true, scores)
    det_axes.plot(_probit(det_fpr), _probit(det_fnr), color="tab:red", linewidth=1.8)
    ticks = _PROBIT(np.array(_DET_TICKS))
    labels = [f"{100 * tick:g}%" for tick in _DET_TICKS]
    for axis in (det_axes.xaxis, det_axes.yaxis):
        axis.set_ticks(ticks, labels)
    det_axes.set_xlim(*_PROBIT(np.array(_DET_LIMITS)))
    det_axes.set_ylim(*_PROBIT(np.array(_DET_LIMITS)))
    det_axes.set_title("DET (normal deviate scale)")
    det_axes.set_xlabel("false positive rate")
    det_axes.set_ylabel("false negative rate")
    det_axes.grid(alpha=0.3)

    if calibration is not None:
        reliability_panel(calibration_axes[0], calibration)

    if operating is not None:
        label = f"threshold {threshold:.3g}"
        roc_axes.plot(1 - operating["tnr"], operating["tpr"], "o", color="black", label=label)
        if not np.isnan(operating["ppv"]):
            pr_axes.plot(operating["tpr"], operating["ppv"], "o", color="black", label=label)
        det_axes.plot(
            _probit(np.array([1 - operating["tnr"]])),
            _probit(np.array([1 - operating["tpr"]])),
            "o",
            color="black",
            label=label,
        )
        for axes in (roc_axes, pr_axes, det_axes):
            if axes.get_legend_handles_labels()[0]:
                axes.legend(loc="lower right" if axes is not det_axes else "upper right", fontsize=8)
    return _png(figure)


def reliability_panel(axes: Any, calibration: dict[str, Any]) -> None:
    """Observed fraction of positives against mean probability per bin; the diagonal is perfect."""
    predicted = np.array(calibration["mean_probability"], dtype=float)
    observed = np.array(calibration["observed_fraction"], dtype=float)
    filled = np.isfinite(predicted) & np.isfinite(observed)
    axes.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    axes.plot(predicted[filled], observed[filled], "o-", color="tab:purple", linewidth=1.8)
    _square(
        axes, f"Calibration (ECE {calibration['ece']:.3f})", "mean probability", "observed fraction positive"
    )


def overview_figure(curves: dict[str, tuple[np.ndarray, np.ndarray, float]]) -> bytes:
    """One PNG with the ROC curve of every finding: ``{finding: (fpr, tpr, auroc)}``."""
    figure = Figure(figsize=(7.5, 6.5), dpi=100, layout="constrained")
    axes = figure.subplots()
    colours = [figure_colour(index) for index in range(len(curves))]
    for colour, (finding, (fpr, tpr, area)) in zip(colours, curves.items(), strict=True):
        axes.plot(fpr, tpr, color=colour, linewidth=1.4, label=f"{finding} ({area:.3f})")
    axes.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    _square(axes, "ROC per finding (AUROC)", "false positive rate", "true positive rate")
    axes.legend(loc="lower right", fontsize=7)
    return _png(figure)


def figure_colour(index: int) -> tuple[float, float, float, float]:
    from matplotlib import colormaps

    return colormaps["tab20"](index % 20)


def _square(axes: object, title: str, xlabel: str, ylabel: str) -> None:
    axes.set_xlim(-0.01, 1.01)
    axes.set_ylim(-0.01, 1.01)
    axes.set_aspect("equal")
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)


def _probit(rates: np.ndarray) -> np.ndarray:
    return _PROBIT(np.clip(np.asarray(rates, dtype=np.float64), *_DET_LIMITS))


def _png(figure: Figure) -> bytes:
    canvas = FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    canvas.print_png(buffer)
    return buffer.getvalue()
