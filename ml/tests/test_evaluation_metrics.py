"""The NumPy metric core against independent computations with scikit-learn on the same scores."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as sk

from ml.evaluation import metrics
from ml.evaluation.metrics import ThresholdRule
from ml.evaluation.report import evaluate_findings


def random_cases(seed: int, n: int = 120, ties: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Labels and scores with a real but imperfect signal; rounded scores make ties."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = (0, 1)  # both classes, always
    scores = rng.normal(size=n) + 0.8 * y
    return y, (np.round(scores, 1) if ties else scores)


@pytest.mark.parametrize("seed", range(8))
def test_auroc_and_curves_equal_scikit_learn(seed):
    y, s = random_cases(seed, n=30 + 20 * seed)
    assert metrics.auroc(y, s) == pytest.approx(sk.roc_auc_score(y, s), abs=1e-12)

    fpr, tpr, thresholds = metrics.roc_curve(y, s)
    sk_fpr, sk_tpr, sk_thresholds = sk.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    np.testing.assert_allclose(thresholds[1:], sk_thresholds[1:])

    precision, recall, pr_thresholds = metrics.precision_recall_curve(y, s)
    sk_precision, sk_recall, sk_pr_thresholds = sk.precision_recall_curve(y, s)
    np.testing.assert_allclose(precision, sk_precision)
    np.testing.assert_allclose(recall, sk_recall)
    np.testing.assert_allclose(pr_thresholds, sk_pr_thresholds)
    assert metrics.average_precision(y, s) == pytest.approx(sk.average_precision_score(y, s), abs=1e-12)

    det_fpr, det_fnr, det_thresholds = metrics.det_curve(y, s)
    sk_det = sk.det_curve(y, s, drop_intermediate=False)
    ours = {threshold: (a, b) for threshold, a, b in zip(det_thresholds, det_fpr, det_fnr, strict=True)}
    for a, b, threshold in zip(*sk_det, strict=True):
        if math.isfinite(threshold):
            assert ours[threshold] == pytest.approx((a, b))


def test_auroc_is_nan_when_a_class_is_missing_and_curves_refuse():
    assert math.isnan(metrics.auroc([0, 0, 0], [0.1, 0.5, 0.9]))
    with pytest.raises(ValueError, match="both positive and negative"):
        metrics.roc_curve([1, 1], [0.2, 0.3])


@pytest.mark.parametrize("method", ["f1", "youden", "mcc", "sensitivity:0.8", "specificity:0.9", "0.3"])
@pytest.mark.parametrize("seed", range(4))
def test_confusion_metrics_at_the_chosen_threshold_equal_scikit_learn(method, seed):
    y, s = random_cases(seed, ties=False)
    threshold = metrics.choose_threshold(y, s, ThresholdRule.parse(method))
    predicted = (s >= threshold).astype(int)
    confusion = metrics.confusion_at(y, s, threshold)
    tn, fp, fn, tp = sk.confusion_matrix(y, predicted, labels=[0, 1]).ravel()
    assert (confusion.tp, confusion.fp, confusion.tn, confusion.fn) == (tp, fp, tn, fn)
    rates = confusion.rates()
    recall = sk.recall_score(y, predicted)
    precision = sk.precision_score(y, predicted, zero_division=np.nan)
    assert rates["tpr"] == pytest.approx(recall)
    assert rates["tnr"] == pytest.approx(sk.recall_score(y, predicted, pos_label=0))
    assert rates["ppv"] == pytest.approx(precision, nan_ok=True)
    assert rates["npv"] == pytest.approx(
        sk.precision_score(y, predicted, pos_label=0, zero_division=np.nan), nan_ok=True
    )
    assert rates["accuracy"] == pytest.approx(sk.accuracy_score(y, predicted))
    assert rates["balanced_accuracy"] == pytest.approx(sk.balanced_accuracy_score(y, predicted))
    assert rates["f1"] == pytest.approx(sk.f1_score(y, predicted))
    assert rates["mcc"] == pytest.approx(sk.matthews_corrcoef(y, predicted))
    # scikit-learn's fowlkes_mallows_score is for clusterings; for a classifier the index is
    # the geometric mean of precision and recall.
    assert rates["fowlkes_mallows"] == pytest.approx(math.sqrt(precision * recall), nan_ok=True)


@pytest.mark.parametrize("seed", range(4))
def test_threshold_rules_pick_the_optimum_over_every_observed_score(seed):
    y, s = random_cases(seed, ties=False)
    candidates = np.unique(s)
    predictions = [(s >= t).astype(int) for t in candidates]
    f1 = [sk.f1_score(y, p) for p in predictions]
    mcc = [sk.matthews_corrcoef(y, p) for p in predictions]
    youden = [sk.recall_score(y, p) + sk.recall_score(y, p, pos_label=0) - 1 for p in predictions]
    for method, values in (("f1", f1), ("mcc", mcc), ("youden", youden)):
        chosen = metrics.choose_threshold(y, s, ThresholdRule.parse(method))
        assert values[int(np.flatnonzero(candidates == chosen)[0])] == pytest.approx(max(values))

    chosen = metrics.choose_threshold(y, s, ThresholdRule.parse("sensitivity:0.9"))
    sensitivities = np.array([sk.recall_score(y, p) for p in predictions])
    # The most specific threshold (the highest) that still reaches 90 % sensitivity.
    assert chosen == candidates[sensitivities >= 0.9].max()
    chosen = metrics.choose_threshold(y, s, ThresholdRule.parse("specificity:0.9"))
    specificities = np.array([sk.recall_score(y, p, pos_label=0) for p in predictions])
    assert chosen == candidates[specificities >= 0.9].min()


def test_threshold_rule_parsing():
    assert ThresholdRule.parse("Youden") == ThresholdRule("youden")
    assert ThresholdRule.parse("sensitivity:0.95") == ThresholdRule("sensitivity", 0.95)
    assert ThresholdRule.parse("0.25") == ThresholdRule("fixed", 0.25)
    assert ThresholdRule.parse("sensitivity:0.95").describe() == "sensitivity:0.95"
    for bad in ("precision", "sensitivity:2", "sensitivity:", "nan"):
        with pytest.raises(ValueError):
            ThresholdRule.parse(bad)


def test_bootstrap_ci_on_a_fixed_seed_equals_a_scikit_learn_bootstrap():
    """The documented resampling, replayed independently with roc_auc_score."""
    y, s = random_cases(11, n=150)
    resamples, seed = 300, 7
    result = metrics.bootstrap_auroc(y, s, resamples=resamples, seed=seed)

    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        index = rng.integers(0, len(y), size=len(y))
        if len(np.unique(y[index])) == 2:
            values.append(sk.roc_auc_score(y[index], s[index]))
    expected = np.percentile(values, [2.5, 97.5])
    assert result.intervals[0] == pytest.approx(tuple(expected), abs=1e-12)
    assert result.valid_resamples == [len(values)]


def test_bootstrap_skips_resamples_missing_a_class_and_pairs_findings_for_the_mean():
    # Two positives in 20 cases: some resamples lack positives and must be skipped.
    y = np.zeros((20, 2), dtype=int)
    y[[3, 9], 0] = 1
    y[::2, 1] = 1
    rng = np.random.default_rng(0)
    s = rng.random((20, 2)) + 0.5 * y
    result = metrics.bootstrap_auroc(y, s, resamples=400, seed=1)
    assert result.valid_resamples[0] < 400
    assert result.valid_resamples[1] == 400

    replay = np.random.default_rng(1)
    means = []
    for _ in range(400):
        index = replay.integers(0, 20, size=20)
        if all(len(np.unique(y[index, c])) == 2 for c in range(2)):
            means.append(np.mean([sk.roc_auc_score(y[index, c], s[index, c]) for c in range(2)]))
    assert result.mean_interval == pytest.approx(tuple(np.percentile(means, [2.5, 97.5])), abs=1e-12)


def test_evaluate_findings_reports_every_figure_and_none_where_undefined():
    y, s = random_cases(3)
    truth = np.stack([y, np.zeros_like(y)], axis=1)
    scores = np.stack([s, s], axis=1)
    result = evaluate_findings(
        truth, scores, ["Effusion", "Hernia"], thresholds=ThresholdRule("youden"), resamples=200
    )
    effusion, hernia = result["findings"]["Effusion"], result["findings"]["Hernia"]
    assert effusion["auroc"] == pytest.approx(sk.roc_auc_score(y, s))
    assert effusion["auroc_ci95"][0] < effusion["auroc"] < effusion["auroc_ci95"][1]
    assert set(effusion["confusion_matrix"]) == {"tp", "fp", "tn", "fn"}
    for key in ("tpr", "tnr", "ppv", "npv", "accuracy", "balanced_accuracy", "f1", "fowlkes_mallows", "mcc"):
        assert isinstance(effusion[key], float)
    assert hernia["auroc"] is None and hernia["auroc_ci95"] is None and hernia["threshold"] is None
    assert result["mean_auroc"] == pytest.approx(effusion["auroc"])
    assert result["findings_in_mean"] == 1

    given = evaluate_findings(
        truth, scores, ["Effusion", "Hernia"], thresholds={"Effusion": 0.5, "Hernia": 0.5}
    )
    assert given["findings"]["Hernia"]["threshold"] == 0.5
    assert given["findings"]["Hernia"]["confusion_matrix"]["tp"] == 0


def test_calibration_of_overconfident_probabilities_is_their_gap_and_of_calibrated_ones_zero():
    overconfident = metrics.calibration(np.array([1, 0] * 10), np.full(20, 0.9))
    assert overconfident.ece == pytest.approx(0.4)
    assert overconfident.counts.tolist() == [0] * 9 + [20]
    # 1 in 5 at 0.2 and 4 in 5 at 0.8 come true exactly as often as they say.
    calibrated = metrics.calibration(
        np.array([1, 0, 0, 0, 0, 1, 1, 1, 1, 0]), np.array([0.2] * 5 + [0.8] * 5)
    )
    assert calibrated.ece == pytest.approx(0.0)
    assert calibrated.observed_fraction[2] == pytest.approx(0.2) and calibrated.observed_fraction[
        8
    ] == pytest.approx(0.8)
    assert np.isnan(calibrated.mean_probability[0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metrics.calibration(np.array([0, 1]), np.array([0.5, 1.5]))


@pytest.mark.parametrize("seed", [0, 1])
def test_reliability_curve_equals_scikit_learns_uniform_bins(seed):
    from sklearn.calibration import calibration_curve

    rng = np.random.default_rng(seed)
    probabilities = rng.random(500)
    y_true = (rng.random(500) < probabilities**2).astype(int)
    ours = metrics.calibration(y_true, probabilities, bins=10)
    observed, predicted = calibration_curve(y_true, probabilities, n_bins=10, strategy="uniform")
    filled = ours.counts > 0
    np.testing.assert_allclose(ours.observed_fraction[filled], observed)
    np.testing.assert_allclose(ours.mean_probability[filled], predicted)
    gaps = np.abs(observed - predicted) * ours.counts[filled] / 500
    assert ours.ece == pytest.approx(gaps.sum())
