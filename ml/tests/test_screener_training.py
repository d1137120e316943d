"""train-screener and evaluate-screener end to end on planted-signal images, resume, InceptionV3 smoke.

The data are 64-pixel noise images, abnormal ones with a bright blob (``screener_data``);
the ELU CNN learns them in a few short epochs on two CPU cores.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from screener_data import write_blob_folder

from ml.cli import main
from ml.screener.analyser import SCREENER_WEIGHTS_ENV_VAR, ScreenerAnalyser

SIZE = 64


def train_cli(data, out, *extra: str) -> list[str]:
    return [
        "train-screener", "--data", str(data), "--out", str(out), "--architecture", "elu-cnn",
        "--input-size", str(SIZE), "--val-fraction", "0.25", "--batch-size", "16", "--lr", "3e-3",
        "--finetune-lr", "3e-3", "--unfreeze", "all", "--bootstrap", "100", "--quiet", *extra,
    ]  # fmt: skip


def evaluate_json(weights, data, capsys) -> dict:
    capsys.readouterr()  # what training printed
    status = main([
        "evaluate-screener", "--data", str(data), "--weights", str(weights), "--no-screening", "--json",
        "--bootstrap", "200", "--sensitivity", "0.9",
    ])  # fmt: skip
    output = capsys.readouterr().out
    assert status == 0
    return json.loads(output)


@pytest.fixture(autouse=True)
def no_installed_screener(monkeypatch):
    monkeypatch.delenv(SCREENER_WEIGHTS_ENV_VAR, raising=False)


def test_the_elu_cnn_learns_a_planted_blob_and_the_card_holds_its_operating_point(tmp_path, capsys):
    data = write_blob_folder(tmp_path / "data", normal=40, abnormal=40, size=SIZE)
    out = tmp_path / "screener"
    assert (
        main(train_cli(data, out, "--head-epochs", "1", "--finetune-epochs", "6", "--sensitivity", "0.9"))
        == 0
    )
    card = json.loads((out / "card.json").read_text())
    assert (card["kind"], card["architecture"], card["input_size"], card["input_channels"]) == (
        "screener", "elu-cnn", SIZE, 1,
    )  # fmt: skip
    assert card["trained"] is True and card["target_sensitivity"] == 0.9
    assert card["validation"]["sensitivity"] >= 0.9 and card["validation"]["auroc"] > 0.9

    fresh = write_blob_folder(tmp_path / "fresh", normal=30, abnormal=30, size=SIZE, seed=99)
    report = evaluate_json(out, fresh, capsys)
    figures = report["figures"]
    assert report["model"]["version"] == card["version"] and report["input_screening"] == "off"
    assert figures["auroc"] > 0.9, figures
    assert figures["at_card_threshold"]["threshold"] == card["threshold"]
    assert figures["at_target_sensitivity"]["sensitivity"] >= 0.9

    screener = ScreenerAnalyser.load(out)
    assert screener.card.trained and screener.card.threshold == card["threshold"]


def test_shuffled_labels_stay_near_chance(tmp_path, capsys):
    data = write_blob_folder(tmp_path / "data", normal=40, abnormal=40, size=SIZE, shuffle_labels=True)
    out = tmp_path / "screener"
    assert main(train_cli(data, out, "--head-epochs", "1", "--finetune-epochs", "4")) == 0
    # The run's own validation figure (its best epoch's, which leans above 0.5 by selection
    # alone) stays far from the 0.9 the planted blob gives above; validation images or labels
    # leaking into the training would lift it. (Fresh images with shuffled labels are at chance
    # whatever the model, so they could not show anything.)
    validation = json.loads((out / "card.json").read_text())["validation"]["auroc"]
    assert 0.2 < validation < 0.8, validation


def test_a_stopped_run_resumes_with_its_settings_and_trains_the_epochs_it_lacked(tmp_path, capsys):
    data = write_blob_folder(tmp_path / "data", normal=12, abnormal=12, size=SIZE)
    out = tmp_path / "screener"
    # Float32, as a CPU trains: the loss-scaling optimizer's resume is test_training_checkpoints'.
    precision = ("--mixed-precision", "off")
    assert main(train_cli(data, out, "--head-epochs", "1", "--finetune-epochs", "1", *precision)) == 0
    first = json.loads((out / "training.json").read_text())["history"]
    assert main(["train-screener", "--out", str(out), "--resume", "--finetune-epochs", "2", "--quiet"]) == 0
    record = json.loads((out / "training.json").read_text())
    assert [(epoch["stage"], epoch["epoch"]) for epoch in record["history"]] == [
        ("head", 1), ("finetune", 1), ("finetune", 2),
    ]  # fmt: skip
    assert record["history"][:2] == first
    assert record["config"]["architecture"] == "elu-cnn" and record["config"]["finetune_epochs"] == 2
    assert record["config"]["mixed_precision"] == "off" and record["card"]["trained"] is True
    capsys.readouterr()
    assert main(["train-screener", "--out", str(tmp_path / "none"), "--resume"]) == 2
    assert "There is no run to resume" in capsys.readouterr().err


def test_inceptionv3_trains_one_batch_at_its_minimum_size_with_only_its_top_blocks():
    import keras

    from ml.screener.architectures import build_screener, logits_model, set_stage_trainable
    from ml.training.losses import ClassBalancedBinaryCrossentropy

    model = build_screener("inceptionv3", 75, 1)
    trainable = set_stage_trainable(model, "inceptionv3", "top")
    assert 0 < trainable < model.count_params()
    logits = logits_model(model)
    logits.compile(optimizer=keras.optimizers.Adam(1e-3), loss=ClassBalancedBinaryCrossentropy([1.0], [1.0]))
    # Keras numbers unnamed layers per process ("conv2d", "conv2d_94", ...): find the first by type.
    first_conv = next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
    first_kernel = np.array(first_conv.kernel)
    head_kernel = np.array(model.get_layer("screener_logits").kernel)
    images = np.random.default_rng(0).uniform(-1, 1, size=(2, 75, 75, 1)).astype(np.float32)
    loss = logits.train_on_batch(images, np.array([[0.0], [1.0]], dtype=np.float32))
    assert np.isfinite(loss)
    assert np.array_equal(np.array(first_conv.kernel), first_kernel)
    assert not np.array_equal(np.array(model.get_layer("screener_logits").kernel), head_kernel)
    assert model.predict(images, verbose=0).shape == (2, 1)


def test_the_channel_bench_times_greyscale_and_rgb_runs_of_the_elu_cnn(tmp_path, capsys):
    data = write_blob_folder(tmp_path / "data", normal=12, abnormal=12, size=SIZE)
    status = main([
        "bench-screener-channels", "--data", str(data), "--val-fraction", "0.25", "--input-size", "32",
        "--epochs", "2", "--batch-size", "8",
    ])  # fmt: skip
    assert status == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {name: run["channels"] for name, run in report["runs"].items()} == {"greyscale": 1, "rgb": 3}
    for run in report["runs"].values():
        assert len(run["epoch_seconds"]) == 2 and run["seconds_per_epoch"] == run["epoch_seconds"][1]
    ratio = report["runs"]["rgb"]["seconds_per_epoch"] / report["runs"]["greyscale"]["seconds_per_epoch"]
    assert report["rgb_to_greyscale_time_ratio"] == pytest.approx(ratio, rel=1e-3)
    assert main(["bench-screener-channels", "--data", str(data), "--epochs", "1"]) == 2
    assert "--epochs must be at least 2" in capsys.readouterr().err
