"""Saving and loading weights directories, and refusing broken ones."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest
from conftest import analyze

from ml.cards.files import CARD_FILENAME, WEIGHTS_FILENAME
from ml.classifier.registry import describe_active_model
from ml.errors import WeightsError
from ml.labels import CHESTXRAY14_LABELS

CUSTOM_THRESHOLDS = {label: round(0.1 + 0.05 * index, 2) for index, label in enumerate(CHESTXRAY14_LABELS)}


@pytest.fixture(scope="module")
def saved_dir(untrained_engine, tmp_path_factory):
    directory = tmp_path_factory.mktemp("weights")
    untrained_engine.save(
        directory,
        trained=True,
        version="0.1.0-test",
        thresholds=CUSTOM_THRESHOLDS,
        training_data="none: seeded weights saved by the test suite",
    )
    return directory


@pytest.fixture(scope="module")
def loaded_engine(saved_dir):
    from ml.classifier.engine import InferenceEngine

    return InferenceEngine.load(saved_dir)


def _copy_dir(source, target):
    target.mkdir()
    for name in (CARD_FILENAME, WEIGHTS_FILENAME):
        (target / name).write_bytes((source / name).read_bytes())
    return target


def test_saved_directory_holds_card_and_weights_with_the_file_hash(saved_dir):
    card = json.loads((saved_dir / CARD_FILENAME).read_text())
    digest = hashlib.sha256((saved_dir / WEIGHTS_FILENAME).read_bytes()).hexdigest()
    assert card["weights_sha256"] == digest
    assert card["trained"] is True and card["thresholds"] == CUSTOM_THRESHOLDS


def test_loaded_weights_give_the_same_probabilities(untrained_engine, loaded_engine, radiograph):
    original = analyze(untrained_engine, radiograph).probabilities
    reloaded = analyze(loaded_engine, radiograph).probabilities
    assert reloaded == pytest.approx(original, abs=1e-6)


def test_loaded_card_is_trained_with_custom_thresholds_and_the_file_hash(loaded_engine, saved_dir):
    card = loaded_engine.card
    assert card.trained is True and card.version == "0.1.0-test"
    assert card.thresholds == CUSTOM_THRESHOLDS
    assert card.weights_sha256 == hashlib.sha256((saved_dir / WEIGHTS_FILENAME).read_bytes()).hexdigest()


def test_registry_agrees_with_the_engine_without_importing_tensorflow(loaded_engine, saved_dir):
    assert describe_active_model(saved_dir) == loaded_engine.card
    code = (
        "import sys, ml.classifier.registry\n"
        f"card = ml.classifier.registry.describe_active_model({str(saved_dir)!r})\n"
        f"assert card.weights_sha256 == {loaded_engine.card.weights_sha256!r}\n"
        "assert 'tensorflow' not in sys.modules, 'TensorFlow was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_missing_card_raises_weights_error(saved_dir, tmp_path):
    from ml.classifier.engine import InferenceEngine

    directory = _copy_dir(saved_dir, tmp_path / "no-card")
    (directory / CARD_FILENAME).unlink()
    with pytest.raises(WeightsError, match=r"no card\.json"):
        InferenceEngine.load(directory)


def test_corrupt_weights_file_raises_weights_error(saved_dir, tmp_path):
    from ml.classifier.engine import InferenceEngine

    directory = _copy_dir(saved_dir, tmp_path / "corrupt")
    data = bytearray((directory / WEIGHTS_FILENAME).read_bytes())
    data[:64] = bytes(64)
    (directory / WEIGHTS_FILENAME).write_bytes(bytes(data))
    # The card's recorded hash catches the damage before TensorFlow is involved.
    with pytest.raises(WeightsError, match="changed or replaced"):
        InferenceEngine.load(directory)
    # Without a recorded hash, the damaged file itself is refused.
    card = json.loads((directory / CARD_FILENAME).read_text())
    card["weights_sha256"] = None
    (directory / CARD_FILENAME).write_text(json.dumps(card))
    with pytest.raises(WeightsError, match="not a readable Keras weights file"):
        InferenceEngine.load(directory)


def test_weights_of_another_architecture_raise_weights_error(untrained_engine, tmp_path):
    import dataclasses

    from ml.classifier.engine import InferenceEngine
    from ml.classifier.network import build_densenet121
    from ml.weights.directory import save_weights_directory

    three_class = build_densenet121(3)
    three_class_card = dataclasses.replace(
        untrained_engine.card,
        labels=CHESTXRAY14_LABELS[:3],
        thresholds=dict.fromkeys(CHESTXRAY14_LABELS[:3], 0.5),
    )
    directory = tmp_path / "three-class"
    save_weights_directory(three_class, directory, three_class_card)
    # Pair the 3-class weights with a 14-label card, as a mistaken install would.
    card = json.loads((directory / CARD_FILENAME).read_text())
    card.update(labels=list(CHESTXRAY14_LABELS), thresholds=dict.fromkeys(CHESTXRAY14_LABELS, 0.5))
    (directory / CARD_FILENAME).write_text(json.dumps(card))
    with pytest.raises(WeightsError, match="different architecture or number of labels"):
        InferenceEngine.load(directory)
