"""The drift statistics monitoring reads: the PSI on the baseline's deciles, and the two-sample KS test
checked against scipy (a test dependency only)."""

import math

import numpy as np
import pytest
import scipy.stats

from ml.evaluation.drift import (
    PSI_FLOOR,
    baseline_bin_edges,
    kolmogorov_survival,
    ks_two_sample,
    population_stability_index,
)


def test_the_psi_of_a_sample_against_itself_is_zero_and_grows_with_a_shift():
    baseline = np.random.default_rng(0).beta(2, 5, size=2000)
    assert population_stability_index(baseline, baseline) == 0.0
    small = population_stability_index(baseline, np.clip(baseline + 0.02, 0, 1))
    large = population_stability_index(baseline, np.clip(baseline + 0.2, 0, 1))
    assert 0 < small < 0.1 < 0.25 < large


def test_the_psi_by_hand_on_two_bins_with_an_empty_one_floored():
    # Edges at the baseline's median: half the baseline each side; the day all above it.
    baseline = np.array([0.1, 0.2, 0.3, 0.4])
    day = np.array([0.9, 0.95])
    edges = baseline_bin_edges(baseline, bins=2)
    assert edges.tolist() == [0.25]
    expected = (PSI_FLOOR - 0.5) * math.log(PSI_FLOOR / 0.5) + (1 - 0.5) * math.log(1 / 0.5)
    assert population_stability_index(baseline, day, bins=2) == pytest.approx(expected)


def test_tied_baseline_scores_merge_their_bins_instead_of_making_empty_ones():
    baseline = np.array([0.5] * 90 + [0.6] * 10)
    edges = baseline_bin_edges(baseline)
    assert len(edges) < 9 and np.all(np.diff(edges) > 0)
    assert population_stability_index(baseline, baseline.copy()) == 0.0


@pytest.mark.parametrize(
    ("n", "m", "shift"), [(50, 60, 0.0), (200, 100, 0.3), (500, 400, 0.05), (30, 30, 1.0)]
)
def test_ks_statistic_and_p_value_equal_scipys(n, m, shift):
    rng = np.random.default_rng(n)
    first, second = rng.random(n), rng.random(m) + shift
    ours = ks_two_sample(first, second)
    theirs = scipy.stats.ks_2samp(first, second)
    assert ours.statistic == pytest.approx(theirs.statistic, abs=1e-12)
    effective = n * m / (n + m)
    assert ours.p_value == pytest.approx(
        scipy.stats.kstwobign.sf(math.sqrt(effective) * ours.statistic), rel=1e-9, abs=1e-300
    )


@pytest.mark.parametrize("x", [0.0, 0.1, 0.3, 0.8, 1.36, 2.0, 4.0])
def test_kolmogorov_survival_equals_scipys(x):
    assert kolmogorov_survival(x) == pytest.approx(scipy.stats.kstwobign.sf(x), rel=1e-9, abs=1e-300)


def test_bad_samples_are_refused():
    with pytest.raises(ValueError, match="non-empty"):
        ks_two_sample(np.array([]), np.array([0.5]))
    with pytest.raises(ValueError, match="finite"):
        population_stability_index(np.array([0.1, np.nan]), np.array([0.5]))
