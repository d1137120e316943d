"""Model cards and the cheap, TensorFlow-free registry."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from ml.cards.files import CARD_FILENAME, WEIGHTS_FILENAME, sha256_file
from ml.classifier.card import ModelCard
from ml.classifier.registry import describe_active_model, untrained_card
from ml.errors import WeightsError
from ml.labels import CHESTXRAY14_LABELS


def test_labels_are_the_14_chestxray14_findings_in_alphabetical_order():
    assert len(CHESTXRAY14_LABELS) == 14
    assert list(CHESTXRAY14_LABELS) == sorted(CHESTXRAY14_LABELS)
    assert "Pleural_Thickening" in CHESTXRAY14_LABELS


def test_untrained_card_says_untrained_everywhere():
    card = describe_active_model(None)
    assert card.name == "densenet121-chestxray14"
    assert card.trained is False
    assert "untrained" in card.version and card.version.endswith("seed0")
    assert card.weights_sha256 is None
    assert card.labels == CHESTXRAY14_LABELS
    assert set(card.thresholds.values()) == {0.5}
    assert (card.input_size, card.input_channels) == (224, 1)


def validation_figures() -> dict:
    """Validation figures as `python -m ml train` writes them, for two findings."""
    finding = {
        "positives": 20,
        "negatives": 180,
        "auroc": 0.91,
        "auroc_ci95": [0.86, 0.95],
        "threshold": 0.31,
        "threshold_from": "validation",
        "sensitivity": 0.85,
        "specificity": 0.88,
        "ppv": 0.44,
        "f1": 0.58,
    }
    without_positives = {
        **finding,
        "positives": 0,
        "auroc": None,
        "auroc_ci95": None,
        "threshold": 0.5,
        "threshold_from": "default",
        "sensitivity": None,
        "ppv": None,
        "f1": None,
    }
    return {
        "split": {"by": "Patient ID", "val_fraction": 0.1, "seed": 0},
        "images": 200,
        "patients": 80,
        "mean_auroc": 0.91,
        "mean_auroc_ci95": [0.86, 0.95],
        "threshold_method": "f1",
        "best_epoch": {"stage": "finetune", "epoch": 3, "val_mean_auroc": 0.91},
        "findings": {"Cardiomegaly": finding, "Hernia": without_positives},
    }


def test_card_round_trips_through_dict_and_json(tmp_path):
    card = dataclasses.replace(
        untrained_card(),
        trained=True,
        training_data="NIH ChestX-ray14 train split",
        validation=validation_figures(),
    )
    assert ModelCard.from_dict(json.loads(json.dumps(card.to_dict()))) == card
    card.save(tmp_path / CARD_FILENAME)
    assert ModelCard.load(tmp_path / CARD_FILENAME) == card


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "name"),
        ({"labels": []}, "labels"),
        ({"labels": ["A", "A"]}, "repeat"),
        ({"input_size": "224"}, "input_size"),
        ({"input_channels": 2}, "input_channels"),
        ({"trained": "yes"}, "trained"),
        ({"weights_sha256": "abc"}, "weights_sha256"),
        ({"preprocessing": {"colour": "rgb"}}, "preprocessing"),
        ({"thresholds": {"Atelectasis": 0.5}}, "thresholds lack"),
        ({"thresholds": dict.fromkeys(CHESTXRAY14_LABELS, 1.5)}, r"lie in \[0, 1\]"),
        ({"thresholds": {**dict.fromkeys(CHESTXRAY14_LABELS, 0.5), "Covid": 0.5}}, "unknown label"),
        ({"threshold": 0.5}, "unknown field"),
        ({"preprocessing": {**untrained_card().preprocessing, "colour": "rgb"}}, "needs input_channels 3"),
        ({"source": "torchxrayvision"}, "source"),
    ],
)
def test_card_validation_names_the_bad_field(change, message):
    with pytest.raises(WeightsError, match=message):
        ModelCard.from_dict({**untrained_card().to_dict(), **change})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"auroc": 0.8}, r"validation has unknown field\(s\): auroc"),
        ({"mean_auroc": 1.2}, r"validation.mean_auroc must lie in \[0, 1\]"),
        ({"mean_auroc_ci95": [0.9, 0.8]}, "low <= high"),
        ({"images": -1}, "validation.images must be at least 0"),
        ({"findings": {"Covid": validation_figures()["findings"]["Hernia"]}}, "unknown labels: Covid"),
        ({"findings": {"Hernia": {"auroc": 0.5}}}, r"findings.Hernia is missing the field\(s\): positives"),
        ({"best_epoch": {"stage": "head"}}, r"validation.best_epoch is missing the field\(s\): epoch"),
    ],
)
def test_card_validation_figures_follow_one_schema(change, message):
    data = {**untrained_card().to_dict(), "validation": {**validation_figures(), **change}}
    with pytest.raises(WeightsError, match=message):
        ModelCard.from_dict(data)


def test_imported_cards_record_their_source_and_older_cards_keep_their_layout():
    assert "source" not in untrained_card().to_dict()
    source = {"format": "torchxrayvision", "label_outputs": {"Atelectasis": 0}}
    card = dataclasses.replace(untrained_card(), source=source)
    assert ModelCard.from_dict(json.loads(json.dumps(card.to_dict()))).source == source
    # The source says where weights came from; the weights hash already identifies results.
    assert card.cache_identity == untrained_card().cache_identity


def test_card_validation_names_missing_fields():
    data = untrained_card().to_dict()
    del data["thresholds"]
    with pytest.raises(WeightsError, match=r"missing the field.*thresholds"):
        ModelCard.from_dict(data)


def test_cache_identity_changes_with_name_version_weights_and_thresholds():
    trained = dataclasses.replace(untrained_card(), trained=True, weights_sha256="a" * 64)
    variants = [
        trained,
        dataclasses.replace(trained, name="other"),
        dataclasses.replace(trained, version="0.2.0"),
        dataclasses.replace(trained, weights_sha256="b" * 64),
        dataclasses.replace(trained, thresholds={**trained.thresholds, "Edema": 0.3}),
    ]
    assert len({card.cache_identity for card in variants}) == len(variants)
    assert trained.cache_identity.startswith("densenet121-chestxray14@")


def test_untrained_cache_identity_is_the_same_before_and_after_the_hash_is_known():
    card = untrained_card()
    assert dataclasses.replace(card, weights_sha256="c" * 64).cache_identity == card.cache_identity


def _fake_weights_dir(tmp_path, *, weights: bytes = b"not really weights", record_hash: bool = True):
    (tmp_path / WEIGHTS_FILENAME).write_bytes(weights)
    card = dataclasses.replace(untrained_card(), trained=True, version="1.0.0")
    if record_hash:
        card = dataclasses.replace(card, weights_sha256=sha256_file(tmp_path / WEIGHTS_FILENAME))
    card.save(tmp_path / CARD_FILENAME)
    return tmp_path


def test_describe_directory_returns_its_card_with_the_file_hash(tmp_path):
    directory = _fake_weights_dir(tmp_path, record_hash=False)
    card = describe_active_model(directory)
    assert card.trained is True and card.version == "1.0.0"
    assert card.weights_sha256 == sha256_file(directory / WEIGHTS_FILENAME)


def test_describe_directory_notices_a_replaced_weights_file(tmp_path):
    directory = _fake_weights_dir(tmp_path)
    describe_active_model(directory)
    (directory / WEIGHTS_FILENAME).write_bytes(b"tampered with, and longer than before")
    with pytest.raises(WeightsError, match="changed or replaced"):
        describe_active_model(directory)


def test_describe_directory_errors_name_the_missing_piece(tmp_path):
    with pytest.raises(WeightsError, match="does not exist"):
        describe_active_model(tmp_path / "nowhere")
    directory = _fake_weights_dir(tmp_path)
    (directory / CARD_FILENAME).unlink()
    with pytest.raises(WeightsError, match=r"has no card\.json"):
        describe_active_model(directory)
    directory = _fake_weights_dir(tmp_path)
    (directory / WEIGHTS_FILENAME).unlink()
    with pytest.raises(WeightsError, match=r"has no model\.weights\.h5"):
        describe_active_model(directory)
    directory = _fake_weights_dir(tmp_path)
    (directory / CARD_FILENAME).write_text("{not json")
    with pytest.raises(WeightsError, match="not valid JSON"):
        describe_active_model(directory)


def test_weights_dir_from_env_reads_cxr_weights(tmp_path):
    assert ModelCard.weights_dir_from_env({}) is None
    assert ModelCard.weights_dir_from_env({"CXR_WEIGHTS": "  "}) is None
    assert ModelCard.weights_dir_from_env({"CXR_WEIGHTS": str(tmp_path)}) == tmp_path


def test_describing_a_model_does_not_import_tensorflow(tmp_path):
    directory = _fake_weights_dir(tmp_path)
    code = (
        "import sys, ml.classifier.registry, ml.cli, ml.images.decoding, ml.images.rendering\n"
        f"assert ml.classifier.registry.describe_active_model({str(directory)!r}).trained\n"
        "assert not ml.classifier.registry.describe_active_model(None).trained\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
