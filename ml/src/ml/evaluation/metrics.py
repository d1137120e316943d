"""Binary classification metrics in NumPy: ROC, precision-recall and DET curves, AUROC with a
bootstrap confidence interval, operating-threshold selection, confusion-matrix metrics and the
calibration of probabilities (a reliability curve and the expected calibration error).

Conventions, shared by every function here and by the service: a case is called positive
when its score is at least the threshold (``score >= threshold``); curves sweep the
distinct scores from the highest down, with tied scores entering together; a ratio whose
denominator is zero is undefined and comes back as NaN (``None`` in JSON), except MCC,
which is 0 when a row or column of the confusion matrix is empty, as scikit-learn has it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

THRESHOLD_METHODS = ("f1", "youden", "mcc", "sensitivity:<target>", "specificity:<target>", "<number>")


def _binary_inputs(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true)
    scores = np.asarray(scores, dtype=np.float64)
    if y_true.ndim != 1 or scores.ndim != 1 or y_true.shape != scores.shape:
        raise ValueError(f"Expected two 1-D arrays of one length, got {y_true.shape} and {scores.shape}.")
    if y_true.size and not np.isin(y_true, (0, 1)).all():
        raise ValueError("y_true must hold only 0 and 1.")
    if not np.isfinite(scores).all():
        raise ValueError("scores must be finite numbers.")
    return y_true.astype(bool), scores


@dataclass(frozen=True)
class Sweep:
    """Confusion counts at every distinct score used as the threshold, highest threshold first.

    ``tp[k]`` and ``fp[k]`` count the positives and negatives scoring at least
    ``thresholds[k]``; ``positives`` and ``negatives`` are the class totals.
    """

    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    positives: int
    negatives: int

    @property
    def fn(self) -> np.ndarray:
        return self.positives - self.tp

    @property
    def tn(self) -> np.ndarray:
        return self.negatives - self.fp


def sweep(y_true: np.ndarray, scores: np.ndarray) -> Sweep:
    """Sort the scores once and count, for each distinct score, the cases at or above it."""
    y_true, scores = _binary_inputs(y_true, scores)
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores = scores[order]
    sorted_truth = y_true[order]
    # The last index of each run of equal scores: ties cross the threshold together.
    last_of_run = np.flatnonzero(np.diff(sorted_scores) != 0)
    ends = np.append(last_of_run, sorted_scores.size - 1) if sorted_scores.size else last_of_run
    tp = np.cumsum(sorted_truth)[ends].astype(np.int64)
    fp = (ends + 1 - tp).astype(np.int64)
    return Sweep(
        thresholds=sorted_scores[ends],
        tp=tp,
        fp=fp,
        positives=int(y_true.sum()),
        negatives=int((~y_true).sum()),
    )


def roc_curve(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False and true positive rates per threshold, from (0, 0) at threshold +inf to (1, 1).

    Every distinct score is a point (no points are dropped). Raises ValueError when either
    class is absent, because the rates are then undefined.
    """
    counts = sweep(y_true, scores)
    _require_both_classes(counts)
    fpr = np.concatenate(([0.0], counts.fp / counts.negatives))
    tpr = np.concatenate(([0.0], counts.tp / counts.positives))
    return fpr, tpr, np.concatenate(([np.inf], counts.thresholds))


def auroc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (ties count one half); NaN when either class is absent.

    This is the Mann-Whitney statistic: the chance that a random positive outscores a
    random negative, which equals the trapezoidal area under ``roc_curve``.
    """
    counts = sweep(y_true, scores)
    if counts.positives == 0 or counts.negatives == 0:
        return math.nan
    fpr = np.concatenate(([0.0], counts.fp / counts.negatives))
    tpr = np.concatenate(([0.0], counts.tp / counts.positives))
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def precision_recall_curve(
    y_true: np.ndarray, scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision and recall per threshold, lowest threshold first, ending at (precision 1, recall 0).

    This is scikit-learn's layout: ``precision[k]`` and ``recall[k]`` belong to
    ``thresholds[k]`` for k < len(thresholds), and the final point has no threshold.
    """
    counts = sweep(y_true, scores)
    if counts.positives == 0:
        raise ValueError("The precision-recall curve needs at least one positive case.")
    precision = counts.tp / (counts.tp + counts.fp)
    recall = counts.tp / counts.positives
    return (
        np.concatenate((precision[::-1], [1.0])),
        np.concatenate((recall[::-1], [0.0])),
        counts.thresholds[::-1],
    )


def average_precision(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Average precision, sum over thresholds of (recall gain) x precision; NaN with no positives."""
    counts = sweep(y_true, scores)
    if counts.positives == 0:
        return math.nan
    precision = counts.tp / (counts.tp + counts.fp)
    recall = counts.tp / counts.positives
    return float(np.sum(np.diff(np.concatenate(([0.0], recall))) * precision))


def det_curve(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False positive and false negative rates at every distinct score, lowest threshold first.

    The detection error trade-off curve plots these two error rates against each other,
    usually on normal-deviate axes (see ``ml.evaluation.plots``).
    """
    counts = sweep(y_true, scores)
    _require_both_classes(counts)
    fpr = counts.fp / counts.negatives
    fnr = counts.fn / counts.positives
    return fpr[::-1], fnr[::-1], counts.thresholds[::-1]


@dataclass(frozen=True)
class Confusion:
    """A 2 x 2 confusion matrix and the rates read from it."""

    tp: int
    fp: int
    tn: int
    fn: int

    def rates(self) -> dict[str, float]:
        """TPR, TNR, PPV, NPV, accuracy, balanced accuracy, F1, Fowlkes-Mallows and MCC (NaN if undefined)."""
        tp, fp, tn, fn = self.tp, self.fp, self.tn, self.fn
        tpr = _ratio(tp, tp + fn)
        tnr = _ratio(tn, tn + fp)
        ppv = _ratio(tp, tp + fp)
        npv = _ratio(tn, tn + fn)
        return {
            "tpr": tpr,
            "tnr": tnr,
            "ppv": ppv,
            "npv": npv,
            "accuracy": _ratio(tp + tn, tp + tn + fp + fn),
            "balanced_accuracy": (tpr + tnr) / 2.0,
            "f1": _ratio(2 * tp, 2 * tp + fp + fn),
            "fowlkes_mallows": math.sqrt(ppv * tpr) if not (math.isnan(ppv) or math.isnan(tpr)) else math.nan,
            "mcc": matthews(tp, fp, tn, fn),
        }


def confusion_at(y_true: np.ndarray, scores: np.ndarray, threshold: float) -> Confusion:
    """The confusion matrix of calling ``scores >= threshold`` positive."""
    y_true, scores = _binary_inputs(y_true, scores)
    predicted = scores >= threshold
    return Confusion(
        tp=int(np.sum(predicted & y_true)),
        fp=int(np.sum(predicted & ~y_true)),
        tn=int(np.sum(~predicted & ~y_true)),
        fn=int(np.sum(~predicted & y_true)),
    )


def matthews(tp: float, fp: float, tn: float, fn: float) -> float:
    """Matthews correlation coefficient; 0 when a row or column of the matrix is empty."""
    denominator = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)
    if denominator == 0:
        return 0.0
    return float((tp * tn - fp * fn) / math.sqrt(denominator))


@dataclass(frozen=True)
class ThresholdRule:
    """How to choose an operating threshold: maximise F1, Youden's J or MCC, reach a target
    sensitivity or specificity, or use a fixed value."""

    kind: str
    target: float | None = None

    @classmethod
    def parse(cls, text: str) -> ThresholdRule:
        """Parse "f1", "youden", "mcc", "sensitivity:0.9", "specificity:0.95" or a number such as "0.5"."""
        text = text.strip().lower()
        if text in ("f1", "youden", "mcc"):
            return cls(text)
        kind, _, value = text.partition(":")
        if kind in ("sensitivity", "specificity") and value:
            target = _float_or_none(value)
            if target is None or not 0.0 < target <= 1.0:
                raise ValueError(f"The target of {kind} must be a number in (0, 1], not {value!r}.")
            return cls(kind, target)
        number = _float_or_none(text)
        if number is not None:
            return cls("fixed", number)
        raise ValueError(f"Unknown threshold method {text!r}; use one of {', '.join(THRESHOLD_METHODS)}.")

    def describe(self) -> str:
        if self.kind in ("sensitivity", "specificity"):
            return f"{self.kind}:{self.target:g}"
        return f"{self.target:g}" if self.kind == "fixed" else self.kind


def choose_threshold(y_true: np.ndarray, scores: np.ndarray, rule: ThresholdRule) -> float:
    """The operating threshold ``rule`` picks among the observed scores.

    Maximising rules keep the highest threshold among equal optima. "sensitivity:x" gives
    the highest threshold whose sensitivity reaches x (the most specific such point) and
    "specificity:x" the lowest whose specificity reaches x (the most sensitive). A fixed
    rule returns its value. Raises ValueError when either class is absent.
    """
    if rule.kind == "fixed":
        return float(rule.target)
    counts = sweep(y_true, scores)
    _require_both_classes(counts)
    tp, fp = counts.tp.astype(np.float64), counts.fp.astype(np.float64)
    fn, tn = counts.positives - tp, counts.negatives - fp
    if rule.kind == "f1":
        criterion = 2 * tp / (2 * tp + fp + fn)
    elif rule.kind == "youden":
        criterion = tp / counts.positives - fp / counts.negatives
    elif rule.kind == "mcc":
        criterion = np.array([matthews(*cells) for cells in zip(tp, fp, tn, fn, strict=True)])
    elif rule.kind == "sensitivity":
        # Rates are compared with a little slack so that 0.9 is reached by 9 of 10 cases.
        reached = np.flatnonzero(tp / counts.positives >= rule.target - 1e-12)
        return float(counts.thresholds[reached[0]])
    elif rule.kind == "specificity":
        reached = np.flatnonzero(tn / counts.negatives >= rule.target - 1e-12)
        if reached.size == 0:
            # Even the highest threshold calls the top-scoring negatives positive: go just above it.
            return float(np.nextafter(counts.thresholds[0], np.inf))
        return float(counts.thresholds[reached[-1]])
    else:
        raise ValueError(f"Unknown threshold rule {rule.kind!r}.")
    return float(counts.thresholds[int(np.argmax(criterion))])


@dataclass(frozen=True)
class BootstrapResult:
    """Percentile bootstrap intervals of each column's AUROC and of their mean."""

    intervals: list[tuple[float, float] | None]
    mean_interval: tuple[float, float] | None
    valid_resamples: list[int]
    resamples: int
    seed: int
    level: float


def bootstrap_auroc(
    y_true: np.ndarray,
    scores: np.ndarray,
    *,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> BootstrapResult:
    """Percentile bootstrap confidence intervals of the AUROC of each column of (n, C) arrays.

    The resampling is, exactly: ``rng = numpy.random.default_rng(seed)``, then for each of
    ``resamples`` resamples ``rng.integers(0, n, size=n)`` draws the case indices. All
    columns share the resamples (a paired bootstrap), which also gives the interval of the
    mean AUROC over the columns whose AUROC is defined on the full sample. A resample in
    which a column lacks either class is skipped for that column (and for the mean); the
    bounds are ``numpy.percentile`` (linear interpolation) of the rest at (1 -/+ level) / 2.
    Columns with fewer than two valid resamples get no interval.
    """
    y_true = np.asarray(y_true)
    scores = np.asarray(scores, dtype=np.float64)
    if y_true.ndim == 1:
        y_true, scores = y_true[:, None], scores[:, None]
    if y_true.shape != scores.shape or y_true.ndim != 2:
        raise ValueError(f"Expected (n, C) arrays of one shape, got {y_true.shape} and {scores.shape}.")
    if resamples < 1 or not 0.0 < level < 1.0:
        raise ValueError("resamples must be positive and level in (0, 1).")
    for column in range(y_true.shape[1]):
        _binary_inputs(y_true[:, column], scores[:, column])
    n, columns = y_true.shape
    rankings = [_Ranking(y_true[:, column].astype(bool), scores[:, column]) for column in range(columns)]
    values = np.full((resamples, columns), np.nan)
    for start, counts in resample_counts(n, resamples, seed):
        for column, ranking in enumerate(rankings):
            values[start : start + len(counts), column] = ranking.weighted_auroc(counts)
    tails = (100.0 * (1.0 - level) / 2.0, 100.0 * (1.0 + level) / 2.0)
    intervals: list[tuple[float, float] | None] = []
    valid: list[int] = []
    for column in range(columns):
        finite = values[:, column][np.isfinite(values[:, column])]
        valid.append(int(finite.size))
        intervals.append(_percentiles(finite, tails))
    defined = [column for column, ranking in enumerate(rankings) if ranking.defined]
    mean_interval = None
    if defined:
        per_resample = values[:, defined]
        complete = np.isfinite(per_resample).all(axis=1)
        mean_interval = _percentiles(per_resample[complete].mean(axis=1), tails)
    return BootstrapResult(
        intervals=intervals,
        mean_interval=mean_interval,
        valid_resamples=valid,
        resamples=resamples,
        seed=seed,
        level=level,
    )


def resample_counts(n: int, resamples: int, seed: int) -> Iterator[tuple[int, np.ndarray]]:
    """Bootstrap resamples of n cases as multiplicities: (first resample's number, (block, n) counts).

    Resample k draws ``rng.integers(0, n, size=n)`` from ``numpy.random.default_rng(seed)``
    in order, so every statistic bootstrapped with one seed sees the same resamples. Counts
    come a block at a time to bound memory on large test sets.
    """
    rng = np.random.default_rng(seed)
    block = max(1, min(resamples, 4_000_000 // max(n, 1)))
    for start in range(0, resamples, block):
        stop = min(start + block, resamples)
        yield (
            start,
            np.stack([np.bincount(rng.integers(0, n, size=n), minlength=n) for _ in range(start, stop)]),
        )


def bootstrap_mean(
    values: np.ndarray, *, resamples: int = 1000, seed: int = 0, level: float = 0.95
) -> list[tuple[float, float] | None]:
    """Percentile bootstrap confidence intervals of the mean of each column of an (n, C) array.

    Resampled by ``resample_counts`` (the resamples every bootstrap of one seed shares, the
    same for all columns); a single value
    has no interval (None). Used for per-image scores such as a segmentation's Dice.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or not np.isfinite(values).all():
        raise ValueError("Expected an (n, C) array of finite values.")
    if resamples < 1 or not 0.0 < level < 1.0:
        raise ValueError("resamples must be positive and level in (0, 1).")
    n, columns = values.shape
    if n < 2:
        return [None] * columns
    means = np.concatenate([counts @ values / n for _, counts in resample_counts(n, resamples, seed)])
    tails = (100.0 * (1.0 - level) / 2.0, 100.0 * (1.0 + level) / 2.0)
    return [_percentiles(means[:, column], tails) for column in range(columns)]


class _Ranking:
    """One column's scores sorted once, to compute the AUROC of many weighted resamples.

    A bootstrap resample is the original cases with multiplicities, so its AUROC is the
    Mann-Whitney statistic with those multiplicities as weights; no re-sorting is needed.
    """

    def __init__(self, y_true: np.ndarray, scores: np.ndarray) -> None:
        self.order = np.argsort(scores, kind="mergesort")
        sorted_scores = scores[self.order]
        self.positive = y_true[self.order]
        self.run_starts = np.concatenate(([0], np.flatnonzero(np.diff(sorted_scores) != 0) + 1))
        self.defined = bool(y_true.any() and (~y_true).any())

    def weighted_auroc(self, counts: np.ndarray) -> np.ndarray:
        weights = counts[:, self.order].astype(np.float64)
        positive = np.where(self.positive, weights, 0.0)
        negative = weights - positive
        if self.run_starts.size == 0:
            return np.full(counts.shape[0], np.nan)
        # Per run of tied scores: weighted positives and negatives.
        run_positive = np.add.reduceat(positive, self.run_starts, axis=1)
        run_negative = np.add.reduceat(negative, self.run_starts, axis=1)
        below = np.cumsum(run_negative, axis=1) - run_negative
        total_positive = run_positive.sum(axis=1)
        total_negative = run_negative.sum(axis=1)
        wins = np.sum(run_positive * (below + 0.5 * run_negative), axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            area = wins / (total_positive * total_negative)
        return np.where((total_positive > 0) & (total_negative > 0), area, np.nan)


@dataclass(frozen=True)
class Calibration:
    """How well probabilities match observed frequencies, over equal-width bins of the probability.

    Each bin has its cases' mean probability, the fraction of them that were positive and their
    count (an empty bin has NaN for both means). The expected calibration error (ECE) is the
    count-weighted mean gap between the two: 0 for probabilities that come true as often as they say.
    """

    bin_edges: np.ndarray
    mean_probability: np.ndarray
    observed_fraction: np.ndarray
    counts: np.ndarray
    ece: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "ece": self.ece,
            "bin_edges": self.bin_edges.tolist(),
            "mean_probability": self.mean_probability.tolist(),
            "observed_fraction": self.observed_fraction.tolist(),
            "counts": self.counts.tolist(),
        }


def calibration(y_true: np.ndarray, probabilities: np.ndarray, *, bins: int = 10) -> Calibration:
    """The reliability curve and ECE of ``probabilities`` (each in [0, 1]) against 0/1 ``y_true``.

    Bins are [0, 0.1), [0.1, 0.2), ... [0.9, 1.0] for ten bins: the last includes 1.
    """
    if bins < 1:
        raise ValueError(f"bins must be positive, not {bins}.")
    y_true, probabilities = _binary_inputs(y_true, probabilities)
    if probabilities.size == 0:
        raise ValueError("Calibration needs at least one case.")
    if probabilities.min() < 0 or probabilities.max() > 1:
        raise ValueError("Calibration needs probabilities in [0, 1].")
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.minimum((probabilities * bins).astype(np.int64), bins - 1)
    counts = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_probability = np.bincount(index, weights=probabilities, minlength=bins) / counts
        observed = np.bincount(index, weights=y_true.astype(np.float64), minlength=bins) / counts
    gaps = np.abs(np.nan_to_num(observed - mean_probability))
    return Calibration(
        bin_edges=edges,
        mean_probability=mean_probability,
        observed_fraction=observed,
        counts=counts,
        ece=float(np.sum(counts * gaps) / probabilities.size),
    )


def to_json_values(value: Any) -> Any:
    """Replace NaN and infinities with None and NumPy scalars with Python numbers, recursively."""
    if isinstance(value, dict):
        return {key: to_json_values(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_values(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _percentiles(values: np.ndarray, tails: tuple[float, float]) -> tuple[float, float] | None:
    if values.size < 2:
        return None
    low, high = np.percentile(values, tails)
    return float(low), float(high)


def _require_both_classes(counts: Sweep) -> None:
    if counts.positives == 0 or counts.negatives == 0:
        raise ValueError("The curve needs both positive and negative cases.")


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator else math.nan


def _float_or_none(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
