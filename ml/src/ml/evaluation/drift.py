"""Whether a model's scores on a day moved away from its baseline: the population stability index
and the two-sample Kolmogorov-Smirnov test, in NumPy.

The PSI compares the shares of two samples in bins cut at the baseline's quantiles, so that each
bin holds about as much of the baseline wherever its scores lie (an untrained network's scores
crowd into a narrow band, which equal-width bins would lump into one): PSI = sum over the bins of
(day - baseline) * ln(day / baseline), each share floored at ``PSI_FLOOR`` so that an empty bin
counts as rare, not as infinite. By the usual reading, below 0.1 the populations are alike, above
0.25 they have shifted.

The KS statistic is the largest gap between the two empirical distribution functions; its p-value
is the survival of Kolmogorov's limiting distribution (``scipy.stats.kstwobign``) at
sqrt(n m / (n + m)) times the statistic: the large-sample p-value (scipy is not a dependency of the
service; the tests check against it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

PSI_BINS = 10
PSI_FLOOR = 1e-4


def _sample(values: np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0 or not np.isfinite(values).all():
        raise ValueError(f"The {name} must be a non-empty 1-D array of finite numbers.")
    return values


def baseline_bin_edges(baseline: np.ndarray, *, bins: int = PSI_BINS) -> np.ndarray:
    """Inner edges at the baseline's quantiles (ties merged): a value v falls in bin
    ``searchsorted(edges, v, side="right")``."""
    baseline = _sample(baseline, "baseline")
    if bins < 2:
        raise ValueError(f"bins must be at least 2, not {bins}.")
    return np.unique(np.quantile(baseline, np.linspace(0, 1, bins + 1)[1:-1]))


def bin_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    index = np.searchsorted(edges, _sample(values, "sample"), side="right")
    return np.bincount(index, minlength=edges.size + 1) / index.size


def population_stability_index(baseline: np.ndarray, day: np.ndarray, *, bins: int = PSI_BINS) -> float:
    edges = baseline_bin_edges(baseline, bins=bins)
    expected = np.maximum(bin_shares(baseline, edges), PSI_FLOOR)
    actual = np.maximum(bin_shares(day, edges), PSI_FLOOR)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


@dataclass(frozen=True)
class KolmogorovSmirnov:
    statistic: float
    p_value: float


def ks_two_sample(first: np.ndarray, second: np.ndarray) -> KolmogorovSmirnov:
    """The two-sided two-sample KS statistic and its asymptotic p-value."""
    first, second = np.sort(_sample(first, "first sample")), np.sort(_sample(second, "second sample"))
    points = np.concatenate((first, second))
    gap = np.abs(
        np.searchsorted(first, points, side="right") / first.size
        - np.searchsorted(second, points, side="right") / second.size
    )
    statistic = float(gap.max())
    effective = first.size * second.size / (first.size + second.size)
    return KolmogorovSmirnov(
        statistic=statistic, p_value=kolmogorov_survival(math.sqrt(effective) * statistic)
    )


def kolmogorov_survival(x: float) -> float:
    """P(K > x) for Kolmogorov's limiting distribution: 2 sum_{j>=1} (-1)^(j-1) exp(-2 j^2 x^2)."""
    if x <= 0:
        return 1.0
    if x < 0.2:
        # The alternating series converges slowly here, and the survival is 1 to double precision.
        return 1.0
    total = sum((-1) ** (j - 1) * math.exp(-2.0 * j * j * x * x) for j in range(1, 101))
    return float(min(1.0, max(0.0, 2.0 * total)))
