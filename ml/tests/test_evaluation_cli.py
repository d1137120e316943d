"""``python -m ml evaluate --scores``: reading, pairing, aggregation, outputs and bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as sk
from tiny_datasets import DATA_ENTRY_HEADER

from ml.cli import main
from ml.labels import CHESTXRAY14_LABELS
from ml.training.chestxray14 import MERGED_INTO_OTHER


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def nih_case(tmp_path):
    """A Data_Entry_2017.csv of 60 images of 20 patients and scores carrying a signal."""
    rng = np.random.default_rng(5)
    truth = (rng.random((60, 14)) < 0.3).astype(int)
    scores = np.clip(0.5 * rng.random((60, 14)) + 0.4 * truth, 0, 1)
    names = [f"{i // 3 + 1:08d}_{i % 3:03d}.png" for i in range(60)]
    rows = []
    for name, labels in zip(names, truth, strict=True):
        findings = "|".join(label for label, flag in zip(CHESTXRAY14_LABELS, labels, strict=True) if flag)
        rows.append(
            [
                name,
                findings or "No Finding",
                name[9:12],
                str(int(name[:8])),
                50,
                "F",
                "PA",
                1024,
                1024,
                0.14,
                0.14,
                "",
            ]
        )
    truth_path = write_csv(tmp_path / "Data_Entry_2017.csv", DATA_ENTRY_HEADER, rows)
    # Scores as another tool writes them: paths for ids, a prefix, other spellings, an extra column.
    header = ["path", "model_version"] + [
        f"prob_{label.replace('_', ' ').lower()}" for label in CHESTXRAY14_LABELS
    ]
    score_rows = [[f"some/dir/{name}", "v1", *values] for name, values in zip(names, scores, strict=True)]
    scores_path = write_csv(tmp_path / "scores.csv", header, score_rows)
    return truth_path, scores_path, truth, scores, names


def test_scores_against_nih_truth_give_metrics_plots_and_report(tmp_path, nih_case, capsys):
    truth_path, scores_path, truth, scores, _ = nih_case
    out = tmp_path / "eval"
    code = main(
        ["evaluate", "--scores", str(scores_path), "--score-prefix", "prob_", "--truth", str(truth_path),
         "--out", str(out), "--bootstrap", "200", "--threshold", "youden"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    document = json.loads((out / "metrics.json").read_text())
    # Findings are named as in the truth file, in the scores' order.
    assert list(document["findings"]) == list(CHESTXRAY14_LABELS)
    expected = [sk.roc_auc_score(truth[:, i], scores[:, i]) for i in range(14)]
    for i, label in enumerate(CHESTXRAY14_LABELS):
        entry = document["findings"][label]
        assert entry["auroc"] == pytest.approx(expected[i], abs=1e-9)
        assert entry["auroc_ci95"][0] <= entry["auroc"] <= entry["auroc_ci95"][1]
        assert entry["threshold_method"] == "youden"
        assert 0 <= entry["threshold"] <= 1
        assert (out / entry["plot"]).is_file()
    assert document["mean_auroc"] == pytest.approx(np.mean(expected))
    assert document["images"] == 60
    report = (out / "report.md").read_text()
    assert "](plots/Pleural_Thickening.png)" in report and "](plots/roc_all.png)" in report
    assert (out / "plots" / "roc_all.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "mean AUROC" in capsys.readouterr().out


def test_study_level_aggregation_averages_each_patients_scores(tmp_path, nih_case):
    truth_path, scores_path, truth, scores, names = nih_case
    out = tmp_path / "eval"
    code = main(
        ["evaluate", "--scores", str(scores_path), "--score-prefix", "prob_", "--truth", str(truth_path),
         "--aggregate", "patient", "--out", str(out), "--bootstrap", "50", "--no-plots"]
    )  # fmt: skip
    assert code == 0
    document = json.loads((out / "metrics.json").read_text())
    assert document["aggregated_by"] == "Patient ID" and document["cases"] == 20
    patients = np.array([int(name[:8]) for name in names])
    mean_scores = np.stack([scores[patients == p].mean(axis=0) for p in np.unique(patients)])
    any_truth = np.stack([truth[patients == p].max(axis=0) for p in np.unique(patients)])
    for i, label in enumerate(CHESTXRAY14_LABELS):
        if 0 < any_truth[:, i].sum() < 20:
            assert document["findings"][label]["auroc"] == pytest.approx(
                sk.roc_auc_score(any_truth[:, i], mean_scores[:, i])
            )


def test_generic_truth_with_a_study_column_and_the_merged_other_label(tmp_path):
    rng = np.random.default_rng(2)
    truth = (rng.random((40, 14)) < 0.3).astype(int)
    rows = [[f"img{i}.png", *labels, f"study{i // 4}"] for i, labels in enumerate(truth)]
    truth_path = write_csv(tmp_path / "truth.csv", ["image", *CHESTXRAY14_LABELS, "study_id"], rows)
    other = truth[:, [CHESTXRAY14_LABELS.index(label) for label in MERGED_INTO_OTHER]].max(axis=1)
    other_scores = rng.random(40) + 0.5 * other
    scores_path = write_csv(
        tmp_path / "scores.csv",
        ["image", "Other", "Unknown"],
        [[f"img{i}.png", other_scores[i], 0.5] for i in range(40)],
    )
    out = tmp_path / "eval"
    assert (
        main(
            [
                "evaluate",
                "--scores",
                str(scores_path),
                "--truth",
                str(truth_path),
                "--out",
                str(out),
                "--no-plots",
            ]
        )
        == 0
    )
    document = json.loads((out / "metrics.json").read_text())
    assert document["findings"]["Other"]["auroc"] == pytest.approx(sk.roc_auc_score(other, other_scores))
    assert document["skipped"]["score_columns"] == ["Unknown"]

    out = tmp_path / "by-study"
    args = [
        "evaluate",
        "--scores",
        str(scores_path),
        "--truth",
        str(truth_path),
        "--out",
        str(out),
        "--no-plots",
    ]
    assert main([*args, "--aggregate", "study_id"]) == 0
    assert json.loads((out / "metrics.json").read_text())["cases"] == 10


def test_bad_input_exits_2_with_one_line(tmp_path, nih_case, capsys, monkeypatch):
    truth_path, scores_path, *_ = nih_case
    out = str(tmp_path / "out")
    monkeypatch.delenv("CXR_WEIGHTS", raising=False)
    prefixed = ["--scores", str(scores_path), "--score-prefix", "prob_", "--truth", str(truth_path)]
    cases = [
        (["--scores", str(tmp_path / "missing.csv"), "--truth", str(truth_path)], "no such file"),
        (["--scores", str(scores_path), "--truth", str(truth_path)], "not a number"),  # the text column
        (["--truth", str(truth_path)], "Nothing to evaluate"),
        ([*prefixed, "--threshold", "card"], "needs a model"),
        ([*prefixed, "--aggregate", "ward"], "no column 'ward'"),
    ]
    for arguments, message in cases:
        assert main(["evaluate", *arguments, "--out", out]) == 2
        error = capsys.readouterr().err
        assert message in error and error.count("\n") == 1, error
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "evaluate",
                "--scores",
                str(scores_path),
                "--truth",
                str(truth_path),
                "--out",
                out,
                "--threshold",
                "best",
            ]
        )
    assert exit_info.value.code == 2
