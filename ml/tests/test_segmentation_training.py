"""Training the U-Net on a planted data set: it converges, resumes, and evaluates as computed by hand.

One small run serves every test here (64x64 images, an EfficientNet a quarter of B0's width
and depth, few epochs), trained in two calls: the second resumes the first's checkpoint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from segmentation_datasets import write_planted_folder

from ml.cli import main
from ml.evaluation.metrics import bootstrap_mean
from ml.segmentation.config import SegmentationTrainingConfig, resume_config
from ml.segmentation.evaluation import overlap_scores, summarise

FIRST_FINETUNE_EPOCHS = 5
FINETUNE_EPOCHS = 14


@dataclass(frozen=True)
class Run:
    data: Path
    out: Path
    first_history: list[dict]
    history: list[dict]
    card: object


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    from ml.segmentation.training import train_segmentation

    root = tmp_path_factory.mktemp("segmentation-run")
    data = write_planted_folder(root / "data", 48, seed=0)
    config = SegmentationTrainingConfig(
        data=str(data),
        out=str(root / "out"),
        input_size=64,
        decoder_filters=[32, 16, 16, 8, 8],
        encoder_scale=[0.25, 0.25],
        batch_size=4,
        head_epochs=1,
        finetune_epochs=FIRST_FINETUNE_EPOCHS,
        learning_rate=1e-2,
        finetune_learning_rate=3e-3,
        lr_patience=20,
        early_stopping_patience=20,
        augment=False,
        bootstrap=200,
        version="test-run",
    )
    first = train_segmentation(config, verbose=0)
    resumed = train_segmentation(
        resume_config(root / "out", finetune_epochs=FINETUNE_EPOCHS), resume=True, verbose=0
    )
    return Run(data, root / "out", first.history, resumed.history, resumed.card)


def test_training_converges_to_a_dice_above_0_9_for_every_structure(run: Run) -> None:
    validation = run.card.validation
    assert run.card.trained and run.card.structures == ("left_lung", "right_lung", "heart")
    for name, entry in validation["structures"].items():
        assert entry["dice"] > 0.9, (name, entry)
        low, high = entry["dice_ci95"]
        assert low <= entry["dice"] <= high
    assert (
        json.loads((run.out / "card.json").read_text())["validation"]["mean_dice"] == validation["mean_dice"]
    )


def test_resumed_run_continues_the_checkpointed_epochs(run: Run) -> None:
    assert [entry["epoch"] for entry in run.first_history] == [1, *range(1, FIRST_FINETUNE_EPOCHS + 1)]
    assert [(entry["stage"], entry["epoch"]) for entry in run.history] == [
        ("head", 1),
        *(("finetune", epoch) for epoch in range(1, FINETUNE_EPOCHS + 1)),
    ]
    # The first run's epochs are kept as they were, not trained again.
    assert run.history[: len(run.first_history)] == run.first_history


def test_evaluate_segmentation_matches_dice_and_iou_computed_by_hand(
    run: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ml.segmentation.analyser import SegmentationAnalyser
    from ml.segmentation.data import find_examples, read_mask, read_radiograph

    report = tmp_path / "report.json"
    # In this process (the CLI's refusals are tested through a subprocess elsewhere): the model
    # is built once more rather than TensorFlow imported again.
    status = main(
        [
            "evaluate-segmentation",
            "--data",
            str(run.data),
            "--weights",
            str(run.out),
            "--bootstrap",
            "100",
            "--out",
            str(report),
        ]
    )
    printed = capsys.readouterr()
    assert status == 0, printed.err
    assert "heart" in printed.out and "UNTRAINED" not in printed.err
    result = json.loads(report.read_text())

    data = find_examples(run.data)
    analyser = SegmentationAnalyser.load(run.out)
    dice = np.zeros((len(data), 3))
    iou = np.zeros((len(data), 3))
    for row, example in enumerate(data.examples):
        radiograph = read_radiograph(example.image)
        (segmentation,) = analyser.segment(
            analyser.prepare(analyser.card, radiograph)[None], sizes=[(64, 64)]
        )
        for column, (name, path) in enumerate(zip(data.structures, example.masks, strict=True)):
            truth, predicted = read_mask(path, 64, 64), segmentation.mask(name)
            both = np.logical_and(truth, predicted).sum()
            dice[row, column] = 2 * both / (truth.sum() + predicted.sum())
            iou[row, column] = both / np.logical_or(truth, predicted).sum()
    for column, name in enumerate(data.structures):
        assert result["structures"][name]["dice"] == pytest.approx(dice[:, column].mean(), abs=1e-12)
        assert result["structures"][name]["iou"] == pytest.approx(iou[:, column].mean(), abs=1e-12)
    assert result["structures"]["heart"]["dice_ci95"] == pytest.approx(
        list(bootstrap_mean(dice, resamples=100, seed=0)[2])
    )


def test_overlap_scores_and_summary_on_known_masks() -> None:
    truth = np.zeros((10, 10), bool)
    truth[0:4, 0:5] = True  # 20 pixels
    predicted = np.zeros((10, 10), bool)
    predicted[2:6, 0:5] = True  # 20 pixels, 10 shared
    assert overlap_scores(truth, predicted) == pytest.approx((20 / 40, 10 / 30))
    assert overlap_scores(np.zeros((3, 3), bool), np.zeros((3, 3), bool)) == (1.0, 1.0)
    dice = np.array([[0.5, 1.0], [0.7, 0.0]])
    summary = summarise(("heart", "left_lung"), dice, dice / 2, resamples=50, seed=0)
    assert summary["structures"]["heart"]["dice"] == pytest.approx(0.6)
    assert summary["structures"]["left_lung"]["iou"] == pytest.approx(0.25)
    assert summary["mean_dice"] == pytest.approx(0.55)
    low, high = summary["structures"]["heart"]["dice_ci95"]
    assert 0.5 <= low <= high <= 0.7
