"""Pooling by mean or max, the binary report every analyser shares, and
``evaluate --aggregate patient --aggregate-rule max`` end to end."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from ml.cli import main
from ml.evaluation.binary import binary_report, operating_point
from ml.evaluation.grouping import pool, pool_groups
from ml.evaluation.metrics import ThresholdRule

# Hand-checked: at 0.5, predicted = [1, 1, 0, 1, 0, 0] -> TP 2, FP 1, TN 2, FN 1.
TRUTH = np.array([1, 1, 0, 0, 1, 0])
SCORES = np.array([0.9, 0.6, 0.4, 0.7, 0.3, 0.1])


def test_pool_mean_and_max_of_known_scores():
    assert pool(np.array([0.2, 0.4, 0.9]), "mean") == pytest.approx(0.5)
    assert pool(np.array([0.2, 0.4, 0.9]), "max") == 0.9
    with pytest.raises(ValueError, match="Unknown aggregation rule"):
        pool(np.array([0.1]), "median")


def test_pool_groups_mean_and_max_per_group():
    scores = np.array([[0.1], [0.5], [0.3], [0.8]])
    groups = np.array([0, 1, 0, 1])
    np.testing.assert_allclose(pool_groups(scores, groups, 2, "mean"), [[0.2], [0.65]])
    np.testing.assert_allclose(pool_groups(scores, groups, 2, "max"), [[0.3], [0.8]])


def test_operating_point_equals_the_hand_computed_confusion_and_rates():
    point = operating_point(TRUTH, SCORES, 0.5, resamples=200)
    assert point["confusion_matrix"] == {"tp": 2, "fp": 1, "tn": 2, "fn": 1}
    assert point["accuracy"] == pytest.approx(4 / 6)
    assert point["precision"] == pytest.approx(2 / 3)
    assert point["recall"] == pytest.approx(2 / 3)
    assert point["specificity"] == pytest.approx(2 / 3)
    assert point["f1"] == pytest.approx(2 / 3)
    for name, (low, high) in point["ci95"].items():
        assert 0.0 <= low <= point[name] <= high <= 1.0, name


def test_binary_report_chooses_the_f1_threshold_and_reports_auroc():
    report = binary_report(TRUTH, SCORES, threshold=ThresholdRule.parse("f1"), resamples=200)
    # F1 by threshold: 0.9 -> 0.5, 0.7 -> 0.4, 0.6 -> 0.667, 0.4 -> 0.571, 0.3 -> 0.75, 0.1 -> 0.667.
    assert report["threshold"] == 0.3
    assert report["f1"] == pytest.approx(0.75)
    assert report["confusion_matrix"] == {"tp": 3, "fp": 2, "tn": 1, "fn": 0}
    # Positives beat negatives in 6 of 9 pairs.
    assert report["auroc"] == pytest.approx(6 / 9)
    low, high = report["auroc_ci95"]
    assert 0.0 <= low < 6 / 9 < high <= 1.0
    assert (report["cases"], report["positives"], report["negatives"]) == (6, 3, 3)


def test_binary_report_with_one_class_has_no_threshold_but_a_given_one_still_counts():
    ruled = binary_report(
        np.ones(3), np.array([0.1, 0.5, 0.9]), threshold=ThresholdRule.parse("f1"), resamples=50
    )
    assert ruled["auroc"] is None and ruled["threshold"] is None and ruled["confusion_matrix"] is None
    given = binary_report(np.ones(3), np.array([0.1, 0.5, 0.9]), threshold=0.5, resamples=50)
    assert given["confusion_matrix"] == {"tp": 2, "fp": 0, "tn": 0, "fn": 1}
    assert given["threshold_method"] == "given"


def test_evaluate_aggregate_patient_max_end_to_end(tmp_path, capsys):
    # Three patients of two images; max pooling ranks patient b (0.9) above c (0.6), mean does not.
    truth = [
        ("a1.png", 0, "a"),
        ("a2.png", 0, "a"),
        ("b1.png", 1, "b"),
        ("b2.png", 0, "b"),
        ("c1.png", 0, "c"),
    ]
    truth += [("c2.png", 0, "c"), ("d1.png", 1, "d"), ("d2.png", 0, "d")]
    scores = {"a1.png": 0.2, "a2.png": 0.3, "b1.png": 0.9, "b2.png": 0.1, "c1.png": 0.6, "c2.png": 0.55}
    scores |= {"d1.png": 0.5, "d2.png": 0.5}
    with (tmp_path / "truth.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([["image", "Effusion", "patient_id"], *truth])
    with (tmp_path / "scores.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([["image", "Effusion"], *scores.items()])
    common = ["evaluate", "--scores", tmp_path / "scores.csv", "--truth", tmp_path / "truth.csv"]
    common += ["--aggregate", "patient", "--bootstrap", "100", "--no-plots"]
    assert (
        main([str(argument) for argument in [*common, "--aggregate-rule", "max", "--out", tmp_path / "max"]])
        == 0
    )
    document = json.loads((tmp_path / "max" / "metrics.json").read_text())
    entry = document["findings"]["Effusion"]
    # Patients by max: a 0.3, b 0.9 (+), c 0.6, d 0.5 (+); b beats a and c, d beats a only: AUROC 3/4.
    assert (document["cases"], document["aggregation_rule"]) == (4, "max")
    assert entry["auroc"] == pytest.approx(3 / 4)
    # F1 threshold 0.9: TP 1, FP 0, FN 1 -> F1 2/3; at 0.5: TP 2, FP 1 -> 4/5, the best.
    assert entry["threshold"] == 0.5
    assert entry["confusion_matrix"] == {"tp": 2, "fp": 1, "tn": 1, "fn": 0}
    assert entry["precision"] == pytest.approx(2 / 3) and entry["recall"] == 1.0
    assert set(entry["ci95"]) == {"accuracy", "precision", "recall", "specificity", "f1"}
    assert "Effusion: threshold 0.500 (f1), accuracy 0.750" in capsys.readouterr().out
    # By mean, patient c (0.575) outranks d (0.5): the rule changes the answer.
    assert main([str(argument) for argument in [*common, "--out", tmp_path / "mean"]]) == 0
    mean_entry = json.loads((tmp_path / "mean" / "metrics.json").read_text())["findings"]["Effusion"]
    assert mean_entry["auroc"] == pytest.approx(1 / 2)


def test_evaluate_aggregate_rule_without_aggregate_is_refused(tmp_path, capsys):
    (tmp_path / "truth.csv").write_text("image,Effusion\na.png,1\nb.png,0\n")
    (tmp_path / "scores.csv").write_text("image,Effusion\na.png,0.9\nb.png,0.1\n")
    arguments = ["evaluate", "--scores", tmp_path / "scores.csv", "--truth", tmp_path / "truth.csv"]
    code = main(
        [str(argument) for argument in [*arguments, "--aggregate-rule", "max", "--out", tmp_path / "out"]]
    )
    assert code == 2
    assert capsys.readouterr().err.startswith("error: --aggregate-rule needs --aggregate")


def test_evaluate_aggregate_study_finds_the_study_column(tmp_path):
    rows = [["image", "Effusion", "Study ID"], ["a.png", 1, "s1"], ["b.png", 0, "s1"], ["c.png", 0, "s2"]]
    rows += [["d.png", 0, "s3"]]
    with (tmp_path / "truth.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    (tmp_path / "scores.csv").write_text("image,Effusion\na.png,0.2\nb.png,0.8\nc.png,0.6\nd.png,0.4\n")
    arguments = ["evaluate", "--scores", tmp_path / "scores.csv", "--truth", tmp_path / "truth.csv"]
    arguments += ["--aggregate", "study", "--no-plots", "--bootstrap", "20", "--out", tmp_path / "out"]
    assert main([str(argument) for argument in arguments]) == 0
    document = json.loads((tmp_path / "out" / "metrics.json").read_text())
    # Studies by mean: s1 0.5 (+), s2 0.6, s3 0.4: the positive beats one of two negatives.
    assert (document["cases"], document["aggregated_by"], document["aggregation_rule"]) == (
        3,
        "Study ID",
        "mean",
    )
    assert document["findings"]["Effusion"]["auroc"] == pytest.approx(1 / 2)
