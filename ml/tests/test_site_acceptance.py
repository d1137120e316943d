"""Site acceptance: a model's figures on a site's labelled cases against the targets the site sets,
with planted signals whose answers are known (ml.evaluation.acceptance, ``evaluate --targets``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_evaluation_cli import write_csv

from ml.cli import main
from ml.evaluation.acceptance import acceptance, parse_targets
from ml.evaluation.report import evaluate_findings


def planted_case() -> tuple[np.ndarray, np.ndarray]:
    """40 cases, three findings: one the scores separate perfectly, one they rank backwards, and one
    with no positive case (nothing about it can be measured)."""
    truth = np.zeros((40, 3), dtype=int)
    truth[:20, 0] = 1
    truth[20:, 1] = 1
    ranks = np.linspace(0.05, 0.95, 40)[::-1]
    scores = np.stack([ranks, ranks, ranks], axis=1)
    return truth, scores


def test_targets_parse_with_their_direction_and_refuse_what_they_cannot_mean():
    targets = parse_targets("auroc=0.80, sensitivity=0.9,ece=0.1,refusal_rate=0.05")
    assert [(target.metric, target.direction, target.bound) for target in targets] == [
        ("auroc", "at least", 0.8),
        ("sensitivity", "at least", 0.9),
        ("ece", "at most", 0.1),
        ("refusal_rate", "at most", 0.05),
    ]
    for text, message in [
        ("accuracy=0.9", "Unknown target"),
        ("auroc=high", "needs a number"),
        ("auroc=1.5", r"\[0, 1\]"),
        ("auroc=0.8,auroc=0.9", "twice"),
        (" , ", "No targets"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_targets(text)


def test_a_finding_meets_the_targets_only_when_each_holds_and_an_unmeasurable_one_never_does():
    truth, scores = planted_case()
    result = evaluate_findings(
        truth,
        scores,
        ["Separated", "Backwards", "Absent"],
        thresholds={"Separated": 0.5, "Backwards": 0.5, "Absent": 0.5},
        resamples=50,
    )
    verdict = acceptance(
        result, parse_targets("auroc=0.8,sensitivity=0.9,refusal_rate=0.05"), refusal_rate=0.1
    )

    assert verdict["findings"]["Separated"]["meets_targets"]
    backwards = {check["metric"]: check for check in verdict["findings"]["Backwards"]["checks"]}
    assert backwards["auroc"]["value"] == pytest.approx(0.0) and not backwards["auroc"]["met"]
    assert backwards["sensitivity"]["value"] == pytest.approx(0.0) and not backwards["sensitivity"]["met"]
    absent = {check["metric"]: check for check in verdict["findings"]["Absent"]["checks"]}
    assert absent["auroc"]["value"] is None and not absent["auroc"]["met"]
    assert verdict["set_checks"] == [
        {"metric": "refusal_rate", "target": "at most 0.05", "value": 0.1, "met": False}
    ]
    assert verdict["findings_meeting_targets"] == ["Separated"] and not verdict["accepted"]


def test_evaluate_with_targets_writes_the_verdicts_the_calibration_and_the_plots(tmp_path, capsys):
    truth, scores = planted_case()
    names = [f"case-{index:02d}.png" for index in range(len(truth))]
    findings = ["Cardiomegaly", "Effusion", "Hernia"]
    truth_path = write_csv(
        tmp_path / "truth.csv", ["image", *findings], [[n, *t] for n, t in zip(names, truth, strict=True)]
    )
    scores_path = write_csv(
        tmp_path / "scores.csv", ["image", *findings], [[n, *s] for n, s in zip(names, scores, strict=True)]
    )
    out = tmp_path / "acceptance"

    code = main(
        ["evaluate", "--scores", str(scores_path), "--truth", str(truth_path), "--threshold", "0.5",
         "--targets", "auroc=0.8,ece=0.5", "--bootstrap", "50", "--out", str(out)]
    )  # fmt: skip

    printed = capsys.readouterr().out
    assert code == 0
    document = json.loads((out / "metrics.json").read_text())
    assert document["acceptance"]["findings_meeting_targets"] == ["Cardiomegaly"]
    cardiomegaly = document["findings"]["Cardiomegaly"]
    # Scores 0.95 … 0.05, positive in the first half: the top bin holds 0.950, 0.927 and 0.904, all positive.
    assert (
        cardiomegaly["calibration"]["counts"][9] == 3
        and cardiomegaly["calibration"]["observed_fraction"][9] == 1.0
    )
    assert "Site acceptance" in (out / "report.md").read_text()
    assert (
        "Effusion: does not meet (auroc 0.000, needs at least 0.8; ece 0.731, needs at most 0.5)" in printed
    )
    assert "Hernia: does not meet (auroc not measurable, needs at least 0.8)" in printed
    assert "1 of 3 findings meet the targets; the model is not accepted at this site." in printed
    assert (out / "plots" / "Cardiomegaly.png").stat().st_size > 0


def test_a_refusal_rate_target_needs_a_model_to_screen_the_images(tmp_path, capsys):
    truth, scores = planted_case()
    truth_path = write_csv(
        tmp_path / "truth.csv", ["image", "Mass"], [[f"{i}.png", t] for i, t in enumerate(truth[:, 0])]
    )
    scores_path = write_csv(
        tmp_path / "scores.csv", ["image", "Mass"], [[f"{i}.png", s] for i, s in enumerate(scores[:, 0])]
    )

    code = main(
        [
            "evaluate",
            "--scores",
            str(scores_path),
            "--truth",
            str(truth_path),
            "--targets",
            "refusal_rate=0.05",
            "--out",
            str(tmp_path / "out"),
        ]
    )

    assert code == 2
    assert "refusal_rate needs a model" in capsys.readouterr().err
