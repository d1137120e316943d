"""``train-ct`` and ``evaluate-ct`` on MosMedData-layout folders the tests write (tiny volumes,
8 slices of 32x32, severe ones with bright opacities), and resuming a run."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
from ct_writers import planted_volume, write_mosmed

from ml.cli import main
from ml.ct.analyser import CTAnalyser
from ml.ct.card import describe_ct_model
from ml.ct.series import CTSeries

TINY = ["--input-size", "32", "--base-filters", "8", "--lr", "3e-3", "--bootstrap", "100"]


def alternating(count: int) -> list[bool]:
    return [index % 2 == 0 for index in range(count)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run of 3 epochs on 40 planted-signal volumes (22 train, 12 validation, 6 held-out patients)."""
    root = tmp_path_factory.mktemp("planted")
    data = write_mosmed(root / "data", alternating(40), seed=0)
    out = root / "run"
    code = main(
        ["train-ct", "--data", str(data), "--out", str(out), "--epochs", "3", "--val-fraction", "0.3", *TINY]
    )
    assert code == 0
    return data, out


def test_training_on_planted_signal_reaches_patient_auroc_above_0_9(trained):
    _, out = trained
    card = describe_ct_model(out)
    assert card.trained and not card.version.endswith("untrained-seed0")
    assert card.validation["auroc"] > 0.9
    assert card.validation["patients"] == 12 and card.validation["threshold_method"] == "f1"
    # The threshold is the one F1 chose on the validation patients' pooled probabilities.
    report = json.loads((out / "validation.json").read_text())["report"]
    assert card.threshold == pytest.approx(min(1.0, max(0.0, report["threshold"])))
    record = json.loads((out / "training.json").read_text())
    assert len(record["history"]) == 3
    split = [set(record["data"][f"{part}_volumes"]) for part in ("train", "validation", "test")]
    assert [len(part) for part in split] == [22, 12, 6] and len(set.union(*split)) == 40
    assert set((out / "test_patients.txt").read_text().split()) == split[2]


def test_installed_weights_score_a_severe_series_above_a_mild_one(trained):
    _, out = trained
    analyser = CTAnalyser.load(out)
    rng = np.random.default_rng(7)
    results = []
    for severe in (True, False):
        volume = planted_volume(rng, severe).astype(np.float32)
        series = CTSeries(volume, (5.0, 0.8, 0.8), None, None, tuple(range(8)), "nifti")
        results.append(analyser.score(series))
    assert results[0].patient_probability > results[1].patient_probability
    assert results[0].positive and not results[1].positive
    assert len(results[0].slice_probabilities) == 8
    assert results[0].patient_probability == pytest.approx(np.mean(results[0].slice_probabilities))


def test_evaluate_ct_on_held_out_patients_reports_patient_metrics(trained, tmp_path, capsys):
    _, out = trained
    held_out = write_mosmed(tmp_path / "held_out", alternating(16), seed=1)
    arguments = ["evaluate-ct", str(held_out), "--weights", str(out), "--out", str(tmp_path / "eval")]
    assert main([*arguments, "--threshold", "card", "--aggregate-rule", "max", "--bootstrap", "100"]) == 0
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["cases"] == 16 and metrics["aggregation"] == "max" and metrics["slices"] == 128
    assert metrics["auroc"] > 0.9
    assert metrics["threshold"] == describe_ct_model(out).threshold and metrics["threshold_method"] == "given"
    matrix = metrics["confusion_matrix"]
    assert sum(matrix.values()) == 16
    assert metrics["accuracy"] == pytest.approx((matrix["tp"] + matrix["tn"]) / 16)
    with (tmp_path / "eval" / "patient_scores.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    with (tmp_path / "eval" / "slice_scores.csv").open() as handle:
        slices = list(csv.DictReader(handle))
    first = [float(row["probability"]) for row in slices if row["patient"] == rows[0]["patient"]]
    assert float(rows[0]["probability"]) == pytest.approx(max(first), rel=1e-6)
    assert "AUROC" in capsys.readouterr().out


def test_evaluate_ct_on_the_runs_held_out_patients_only(trained, tmp_path):
    data, out = trained
    arguments = ["evaluate-ct", str(data), "--weights", str(out), "--out", str(tmp_path / "eval")]
    assert main([*arguments, "--patients", str(out / "test_patients.txt"), "--bootstrap", "50"]) == 0
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert (metrics["cases"], metrics["positives"], metrics["threshold_method"]) == (6, 3, "f1")


def test_resumed_run_continues_from_its_checkpoint(trained, tmp_path):
    data, out = trained
    resumed = tmp_path / "resumed"
    # A copy, so the module's run stays as the other tests expect.
    shutil.copytree(out, resumed)
    assert main(["train-ct", "--data", str(data), "--out", str(resumed), "--resume", "--epochs", "4"]) == 0
    history = json.loads((resumed / "training.json").read_text())["history"]
    assert [entry["epoch"] for entry in history] == [1, 2, 3, 4]


def test_training_on_shuffled_labels_stays_near_chance(tmp_path):
    severe = alternating(80)
    graded = list(np.random.default_rng(3).permutation(severe))
    data = write_mosmed(tmp_path / "data", severe, seed=2, graded=graded)
    out = tmp_path / "run"
    assert (
        main(
            [
                "train-ct",
                "--data",
                str(data),
                "--out",
                str(out),
                "--epochs",
                "3",
                "--val-fraction",
                "0.5",
                *TINY,
            ]
        )
        == 0
    )
    # 40 validation patients: chance AUROC has a standard deviation of about 0.09.
    assert 0.2 < describe_ct_model(out).validation["auroc"] < 0.8


def test_train_ct_refuses_bad_data_and_arguments_in_one_line(tmp_path, capsys):
    assert main(["train-ct", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.strip().startswith("error: The CT data folder")
    (tmp_path / "empty" / "studies" / "CT-0").mkdir(parents=True)
    assert main(["train-ct", "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]) == 2
    assert "No NIfTI volumes" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["train-ct", "--data", "x", "--out", "y", "--positive-grades", "CT-9"])
    assert exit_info.value.code == 2
