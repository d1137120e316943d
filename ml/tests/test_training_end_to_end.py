"""train, evaluate and localize end to end on tiny datasets made from the real radiographs.

These are the slow tests of the package (about a minute each on two CPU cores): tracing
DenseNet121's training step dominates, so every run trains on 64-pixel inputs for a few
short epochs.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import analyze
from tiny_datasets import build_nih_folder, build_planted_csv, real_images

from ml.classifier.card import ModelCard
from ml.classifier.threshold_profile import ThresholdProfile
from ml.cli import main
from ml.images.decoding import decode_radiograph
from ml.labels import CHESTXRAY14_LABELS
from ml.training.chestxray14 import EIGHT_CLASS_LABELS

SIZE = 64


@pytest.fixture(scope="module")
def nih_folder(tmp_path_factory):
    return build_nih_folder(tmp_path_factory.mktemp("nih"), size=96)


@pytest.fixture(scope="module")
def stand_in_imagenet(tmp_path_factory):
    """A DenseNet121 no-top weights file laid out as Keras's ImageNet one (random values: no download)."""
    import keras

    path = tmp_path_factory.mktemp("keras") / "densenet121_notop.weights.h5"
    keras.applications.DenseNet121(include_top=False, weights=None, input_shape=(SIZE, SIZE, 3)).save_weights(
        path
    )
    return path


def test_train_evaluate_localize_on_a_chestxray14_folder(tmp_path, nih_folder, stand_in_imagenet, capsys):
    from ml.classifier.engine import InferenceEngine

    out = tmp_path / "model"
    code = main(
        ["train", "--data", str(nih_folder.root), "--out", str(out), "--input-size", str(SIZE),
         "--batch-size", "8", "--head-epochs", "1", "--finetune-epochs", "1", "--val-fraction", "0.3",
         "--imagenet-weights", str(stand_in_imagenet), "--bootstrap", "100", "--quiet"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Stage 1/2 (head)" in captured.err and "Stage 2/2 (finetune)" in captured.err

    # The output is a weights directory the service loads as it is.
    card = ModelCard.load(out / "card.json")
    assert card.trained and card.labels == CHESTXRAY14_LABELS and card.input_size == SIZE
    assert all(0.0 <= card.thresholds[label] <= 1.0 for label in card.labels)
    assert "split by Patient ID" in card.training_data and "ImageNet" in card.training_data
    assert "Code: cxr-ml" in card.training_data
    assert card.validation["images"] > 0 and 0.0 <= card.validation["mean_auroc"] <= 1.0
    assert card.validation["threshold_method"] == "f1"
    engine = InferenceEngine.load(out)
    assert engine.card.weights_sha256 == card.weights_sha256
    analysis = analyze(engine, decode_radiograph(real_images()[0].path.read_bytes()))
    assert set(analysis.probabilities) == set(CHESTXRAY14_LABELS)
    record = json.loads((out / "training.json").read_text())
    assert [(epoch["stage"], epoch["epoch"]) for epoch in record["history"]] == [("head", 1), ("finetune", 1)]
    assert record["initialisation"]["kind"] == "imagenet"
    assert (out / "validation" / "report.md").is_file() and (out / "validation" / "metrics.json").is_file()

    # evaluate: the model on the held-out test_list images, at the card's thresholds.
    evaluation = tmp_path / "evaluation"
    code = main(
        ["evaluate", "--weights", str(out), "--truth", str(nih_folder.root / "Data_Entry_2017.csv"),
         "--image-list", str(nih_folder.root / "test_list.txt"), "--threshold", "card",
         "--bootstrap", "100", "--out", str(evaluation), "--no-screening",
         "--targets", "auroc=0,refusal_rate=0"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((evaluation / "metrics.json").read_text())
    # Site acceptance through the service's pipeline: nothing screened out, so nothing refused.
    assert metrics["acceptance"]["set_checks"] == [
        {"metric": "refusal_rate", "target": "at most 0", "value": 0.0, "met": True}
    ]
    assert (
        metrics["images"] == len(nih_folder.test)
        and metrics["input_screening"] == "off"
        and metrics["model"]["weights_sha256"] == card.weights_sha256
    )
    defined = {name: entry for name, entry in metrics["findings"].items() if entry["auroc"] is not None}
    assert defined and all(entry["threshold"] == card.thresholds[name] for name, entry in defined.items())
    # Site thresholds from a run of the same model: a profile bound to its weights, the next version each run.
    profiles = tmp_path / "profiles"
    for _ in range(2):
        code = main(
            ["evaluate", "--weights", str(out), "--truth", str(nih_folder.root / "Data_Entry_2017.csv"),
             "--image-list", str(nih_folder.root / "test_list.txt"), "--threshold", "youden",
             "--bootstrap", "20", "--out", str(tmp_path / "site"), "--no-screening", "--no-plots",
             "--profile-out", str(profiles), "--profile-name", "site-a"]
        )  # fmt: skip
        assert code == 0, capsys.readouterr().err
    profile = ThresholdProfile.load(profiles / "site-a-v2.json")
    site = json.loads((tmp_path / "site" / "metrics.json").read_text())
    assert profile.weights_sha256 == card.weights_sha256 and profile.rule == "youden"
    assert site["threshold_profile"] == str(profiles / "site-a-v2.json")
    assert profile.thresholds == {
        name: entry["threshold"] for name, entry in site["findings"].items() if entry["threshold"] is not None
    }
    assert profile.apply(card).cache_identity != card.cache_identity
    with (evaluation / "scores.csv").open() as handle:
        assert sum(1 for _ in handle) == len(nih_folder.test) + 1
    # The scores it saved evaluate to the same figures.
    again = tmp_path / "again"
    truth = str(nih_folder.root / "Data_Entry_2017.csv")
    scores = str(evaluation / "scores.csv")
    assert (
        main(["evaluate", "--scores", scores, "--truth", truth, "--out", str(again), "--bootstrap", "100"])
        == 0
    )
    for name, entry in json.loads((again / "metrics.json").read_text())["findings"].items():
        assert entry["auroc"] == pytest.approx(metrics["findings"][name]["auroc"], abs=1e-6, nan_ok=True)

    # localize: Grad-CAM against the boxes.
    localization = tmp_path / "localization"
    boxes = str(nih_folder.root / "BBox_List_2017.csv")
    # The tiny images (96 pixels a side) are smaller than the service's screening accepts.
    arguments = [
        "localize",
        "--weights",
        str(out),
        "--boxes",
        boxes,
        "--out",
        str(localization),
        "--no-screening",
    ]
    assert main(arguments) == 0
    document = json.loads((localization / "localization.json").read_text())
    assert document["findings"]
    for entry in document["findings"].values():
        assert entry["boxes"] >= 1 and 0.0 <= entry["hit_rate"] <= 1.0
        assert set(entry["iou"]) == set(entry["iobb"]) == {"0.1", "0.2", "0.3", "0.4", "0.5"}
    assert "T(IoBB) = 0.5" in (localization / "report.md").read_text()


def planted_run(root):
    from ml.classifier.training.config import TrainingConfig
    from ml.classifier.training.trainer import train

    labels = build_planted_csv(root / "data", size=SIZE, per_image=12)
    config = TrainingConfig(
        data=str(labels),
        out=str(root / "model"),
        input_size=SIZE,
        batch_size=8,
        finetune_epochs=8,
        finetune_learning_rate=1e-3,
        lr_patience=3,
        early_stopping_patience=8,
        imagenet_weights="none",
        val_fraction=0.34,
        bootstrap=100,
    )
    return train(config, verbose=0)


def fresh_mass_auroc(model_directory, truth, out) -> float:
    """Mass AUROC of a trained model on a fresh set, through the evaluate CLI on the images themselves."""
    arguments = ["evaluate", "--weights", str(model_directory), "--truth", str(truth), "--out", str(out)]
    assert main([*arguments, "--no-plots", "--no-screening"]) == 0
    return json.loads((out / "metrics.json").read_text())["findings"]["Mass"]["auroc"]


def test_the_loop_learns_a_planted_signal(tmp_path):
    result = planted_run(tmp_path)
    mass = result.card.validation["findings"]["Mass"]
    assert mass["auroc"] > 0.9, result.history
    assert mass["positives"] > 10 and mass["negatives"] > 10

    fresh = build_planted_csv(tmp_path / "fresh", size=SIZE, per_image=3, seed=99)
    assert fresh_mass_auroc(result.directory, fresh, tmp_path / "fresh-evaluation") > 0.9


def optimizer_steps(out) -> int:
    """Adam's iteration count in the run's last checkpoint."""
    with np.load(out / "checkpoint" / "last.optimizer.npz") as optimizer:
        paths = [str(path) for path in optimizer["paths"]]
        (index,) = [
            i for i, path in enumerate(paths) if path.startswith("adam") and path.endswith("/iteration")
        ]
        return int(optimizer[f"v{index}"])


class Interrupted(Exception):
    pass


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path, nih_folder):
    """An 8-class, 3-channel run stopped after its first epoch finishes the second on --resume."""
    import keras

    from ml.classifier.engine import InferenceEngine
    from ml.classifier.training.config import TrainingConfig
    from ml.classifier.training.trainer import train
    from ml.training.config import resume_config

    class StopAfterFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise Interrupted

    out = tmp_path / "model"
    config = TrainingConfig(
        data=str(nih_folder.root),
        out=str(out),
        label_set="8",
        channels=3,
        input_size=SIZE,
        batch_size=8,
        finetune_epochs=2,
        # Training only the last dense block keeps the two traces of the training step short.
        unfreeze="1",
        # Float16 is emulated on a CPU (minutes an epoch here): the loss-scaling optimizer's
        # resume is checked without training in test_training_checkpoints.
        mixed_precision="off",
        imagenet_weights="none",
        val_fraction=0.3,
        bootstrap=50,
        augment=False,
    )
    with pytest.raises(Interrupted):
        train(config, callbacks=[StopAfterFirstEpoch()], verbose=0)
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    assert state["stages"]["finetune"]["epochs_done"] == 1 and not (out / "card.json").exists()
    steps = int(np.ceil(state["data"]["train_images"] / 8))
    assert optimizer_steps(out) == steps

    assert main(["train", "--out", str(out), "--data", str(nih_folder.root)]) == 2  # not over a run

    result = train(resume_config(out, TrainingConfig.from_dict), resume=True, verbose=0)
    assert [(epoch["stage"], epoch["epoch"]) for epoch in result.history] == [
        ("finetune", 1),
        ("finetune", 2),
    ]
    assert optimizer_steps(out) == 2 * steps  # Adam's state went on, not restarted
    card = result.card
    assert card.labels == EIGHT_CLASS_LABELS and card.input_channels == 3 and card.name.endswith("8class")
    analysis = analyze(InferenceEngine.load(out), decode_radiograph(real_images()[1].path.read_bytes()))
    assert tuple(analysis.probabilities) == EIGHT_CLASS_LABELS

    # Training longer continues the finished run from its last epoch, with the same settings.
    longer = resume_config(out, TrainingConfig.from_dict, finetune_epochs=4)
    assert longer.finetune_epochs == 4 and longer.label_set == "8" and longer.version == card.version
