"""The screener's data readers, card, figures and untrained analyser (no training here)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import cxr_data_dir
from screener_data import write_blob_folder
from tiny_datasets import build_nih_folder

from ml.cli import main
from ml.errors import DataError, WeightsError
from ml.images.screening import screen_radiograph
from ml.screener.analyser import (
    SCREENER_WEIGHTS_ENV_VAR,
    ScreenerAnalyser,
    ScreenerResult,
    describe_screener_model,
)
from ml.screener.card import ScreenerCard, untrained_screener_card
from ml.screener.data import load_screener_data, read_labelled_folder, read_labelled_images
from ml.screener.evaluation import screener_figures
from ml.training.datasets import DataOptions


def test_folder_reader_takes_0_as_normal_and_1_as_abnormal_one_patient_per_file(tmp_path):
    write_blob_folder(tmp_path / "CXR_png" / "nested", normal=3, abnormal=2)
    images = read_labelled_folder(tmp_path)
    assert images.label_names == ("abnormal",)
    by_name = {path.name: label for path, label in zip(images.paths, images.labels[:, 0], strict=True)}
    assert by_name == {f"IMG_{i:04d}_{int(i >= 3)}.png": float(i >= 3) for i in range(5)}
    assert images.groups == tuple(path.name for path in images.paths)


@pytest.mark.parametrize("name", ["CHNCXR_0001.png", "MCUCXR_0001_2.png", "scan_1_0_x.png"])
def test_folder_reader_refuses_a_name_without_a_0_or_1_label(tmp_path, name):
    write_blob_folder(tmp_path, normal=2, abnormal=2)
    (tmp_path / name).write_bytes((tmp_path / "IMG_0000_0.png").read_bytes())
    with pytest.raises(DataError, match=rf"{name}: the file name must end in _0 \(normal\) or _1"):
        read_labelled_folder(tmp_path)


def test_train_screener_refuses_a_badly_named_folder_with_one_line_and_writes_nothing(tmp_path, capsys):
    write_blob_folder(tmp_path / "data", normal=2, abnormal=2)
    (tmp_path / "data" / "CHNCXR_0001.png").write_bytes(b"x")
    status = main(["train-screener", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err
    assert status == 2
    assert error.startswith("error: ") and error.count("\n") == 1 and "CHNCXR_0001.png" in error
    assert not (tmp_path / "out").exists()


def test_the_labelled_folder_is_split_into_training_and_validation_with_both_classes(tmp_path):
    write_blob_folder(tmp_path, normal=10, abnormal=10)
    data = load_screener_data(DataOptions(data=tmp_path, val_fraction=0.3, seed=1))
    assert len(data.train) == 14 and len(data.validation) == 6
    assert not set(data.train.paths) & set(data.validation.paths)
    assert 0 < data.validation.labels.sum() < len(data.validation)


def test_the_shared_nih_labels_csv_reads_as_abnormal_unless_no_finding():
    cxr_data_dir_path = cxr_data_dir()
    images = read_labelled_images(cxr_data_dir_path / "labels.csv", cxr_data_dir_path / "nih")
    rows = (cxr_data_dir_path / "labels.csv").read_text().splitlines()[1:]
    expected = {row.split(",")[0]: float(row.split(",")[1] != "No Finding") for row in rows}
    assert {
        path.name: label for path, label in zip(images.paths, images.labels[:, 0], strict=True)
    } == expected
    assert sorted(expected.values()).count(0.0) == 2


def test_a_chestxray14_folder_is_evaluated_on_its_test_list_with_any_finding_abnormal(tmp_path):
    folder = build_nih_folder(tmp_path, size=64, follow_ups=1)
    images = read_labelled_images(folder.root)
    assert sorted(path.name for path in images.paths) == sorted(folder.test)
    rows = {row[0]: row[1] for row in csv.reader((folder.root / "Data_Entry_2017.csv").open()) if row}
    for path, label in zip(images.paths, images.labels[:, 0], strict=True):
        assert label == float(rows[path.name] != "No Finding")


def test_figures_match_hand_computation_on_known_scores():
    truth = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    scores = np.array([0.9, 0.8, 0.4, 0.35, 0.5, 0.3, 0.2, 0.1])
    figures = screener_figures(truth, scores, target_sensitivity=0.75, card_threshold=0.45, resamples=200)
    # 14 of the 16 (abnormal, normal) pairs are ranked right: 0.4 and 0.35 fall below 0.5.
    assert figures["auroc"] == pytest.approx(14 / 16)
    low, high = figures["auroc_ci95"]
    assert 0.0 <= low <= 14 / 16 <= high <= 1.0
    card = figures["at_card_threshold"]
    # At 0.45: 0.9 and 0.8 caught, 0.4 and 0.35 missed, 0.5 a false alarm.
    assert (card["sensitivity"], card["specificity"]) == (0.5, 0.75)
    assert card["confusion_matrix"] == {"tp": 2, "fp": 1, "tn": 3, "fn": 2}
    for name in ("sensitivity", "specificity"):
        low, high = card[f"{name}_ci95"]
        assert 0.0 <= low <= card[name] <= high <= 1.0 and high - low > 0.2
    target = figures["at_target_sensitivity"]
    # The highest threshold catching 3 of 4 is 0.4; only 0.5 of the normals reaches it.
    assert (target["threshold"], target["sensitivity"], target["specificity"]) == (0.4, 0.75, 0.75)


def test_evaluate_screener_refuses_a_bad_sensitivity_and_a_foreign_card(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(SCREENER_WEIGHTS_ENV_VAR, raising=False)
    write_blob_folder(tmp_path / "data", normal=2, abnormal=2)
    assert main(["evaluate-screener", "--data", str(tmp_path / "data"), "--sensitivity", "1.5"]) == 2
    assert "--sensitivity must lie in (0, 1]" in capsys.readouterr().err
    weights = tmp_path / "weights"
    weights.mkdir()
    card = untrained_screener_card().to_dict()
    (weights / "card.json").write_text(json.dumps(dict(card, kind="classifier")))
    (weights / "model.weights.h5").write_bytes(b"")
    assert main(["evaluate-screener", "--data", str(tmp_path / "data"), "--weights", str(weights)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and 'not "screener"' in error and error.count("\n") == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"threshold": 1.2}, r"threshold must lie in \[0, 1\]"),
        ({"architecture": "resnet"}, "architecture must be one of"),
        ({"input_size": 64}, "at least 75 for inceptionv3"),
        ({"surprise": 1}, "unknown field"),
    ],
)
def test_a_doubtful_screener_card_is_refused(change, message):
    with pytest.raises(WeightsError, match=message):
        ScreenerCard.from_dict(dict(untrained_screener_card().to_dict(), **change))


def test_describing_and_preparing_never_import_tensorflow():
    code = (
        "import sys; from ml.screener.analyser import ScreenerAnalyser, describe_screener_model\n"
        "from ml.images.radiograph import Radiograph; import numpy as np\n"
        "card = describe_screener_model(None)\n"
        "tensor = ScreenerAnalyser.prepare(card, Radiograph(np.zeros((400, 300), np.float32), 8))\n"
        "assert tensor.shape == (299, 299, 1), tensor.shape\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_untrained_screener_scores_a_real_radiograph_and_says_it_is_untrained(radiograph):
    card = describe_screener_model(None)
    assert (card.kind, card.trained, card.architecture, card.input_size) == (
        "screener",
        False,
        "inceptionv3",
        299,
    )
    assert card.version.endswith("-untrained-seed0")
    screener = ScreenerAnalyser.load(None, threads=2)
    screened, _ = screen_radiograph(radiograph)
    tensor = screener.prepare(screener.card, screened)
    assert tensor.shape == (299, 299, 1) and tensor.dtype == np.float32
    (result,) = screener.score(np.stack([tensor]))
    assert isinstance(result, ScreenerResult) and 0.0 <= result.probability <= 1.0
    assert result.likely_abnormal == (result.probability >= 0.5) and result.threshold == 0.5
    assert set(result.to_dict()) == {"probability", "threshold", "likely_abnormal"}
    # Seeded: another load gives the same untrained network, hence the same probability.
    (again,) = ScreenerAnalyser.load(None).score(np.stack([tensor]))
    assert again.probability == pytest.approx(result.probability, abs=1e-6)
    with pytest.raises(ValueError, match="Expected a batch of shape"):
        screener.score(tensor)
