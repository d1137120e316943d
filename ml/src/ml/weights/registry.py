"""Which model is active, described cheaply from its weights directory.

The web process calls ``describe_active_model`` on every upload (to record the card and
key the result cache), so this module must never import TensorFlow or Keras, and it
remembers each directory's card until one of its files changes.

A weights directory holds two files:

- ``card.json``: the model card (see ``ml.weights.card.ModelCard``);
- ``model.weights.h5``: the Keras 3 weights of ``ml.inference.model.build_densenet121`` for the card's
  labels, input size and channels.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from ml.errors import WeightsError
from ml.inference.preprocessing import default_preprocessing
from ml.labels import CHESTXRAY14_LABELS
from ml.weights.card import ModelCard

CARD_FILENAME = "card.json"
WEIGHTS_FILENAME = "model.weights.h5"
WEIGHTS_ENV_VAR = "CXR_WEIGHTS"

MODEL_NAME = "densenet121-chestxray14"
# Bumped whenever the architecture or the untrained initialisation changes, because the
# untrained model's results are identified by this version rather than a weights hash.
ARCHITECTURE_VERSION = "0.1.0"
UNTRAINED_SEED = 0
DEFAULT_THRESHOLD = 0.5
INPUT_SIZE = 224
INPUT_CHANNELS = 1


def untrained_card(seed: int = UNTRAINED_SEED) -> ModelCard:
    """The card of the seeded, untrained DenseNet121 used when no weights are installed.

    ``weights_sha256`` is None here because the weights only exist once TensorFlow has built
    the model; ``ml.inference.engine.InferenceEngine.card`` fills it in after building.
    """
    return ModelCard(
        name=MODEL_NAME,
        version=f"{ARCHITECTURE_VERSION}-untrained-seed{seed}",
        labels=CHESTXRAY14_LABELS,
        input_size=INPUT_SIZE,
        input_channels=INPUT_CHANNELS,
        preprocessing=default_preprocessing(INPUT_SIZE),
        thresholds=dict.fromkeys(CHESTXRAY14_LABELS, DEFAULT_THRESHOLD),
        weights_sha256=None,
        trained=False,
        training_data=None,
        validation=None,
    )


def weights_dir_from_env(
    environ: Mapping[str, str] | None = None, variable: str = WEIGHTS_ENV_VAR
) -> Path | None:
    """The weights directory named by ``$CXR_WEIGHTS`` (or ``variable``), or None when unset or empty."""
    value = (os.environ if environ is None else environ).get(variable, "").strip()
    return Path(value) if value else None


def describe_active_model(weights_dir: str | os.PathLike[str] | None) -> ModelCard:
    """The card of the model ``weights_dir`` holds, or of the untrained model for None.

    For a directory, the returned card's ``weights_sha256`` is the SHA-256 of its
    ``model.weights.h5``; if ``card.json`` records a hash too, the two must agree. Any
    problem raises WeightsError naming the file at fault.
    """
    if weights_dir is None:
        return untrained_card()
    directory = Path(weights_dir).expanduser().resolve()
    if not directory.is_dir():
        raise WeightsError(f"The weights directory {directory} does not exist or is not a directory.")
    card_path = directory / CARD_FILENAME
    weights_path = directory / WEIGHTS_FILENAME
    card_stamp = file_stamp(card_path, directory)
    weights_stamp = file_stamp(weights_path, directory)
    # Copying keeps callers' hands off the cached card's dictionaries.
    return copy.deepcopy(_describe_directory(str(directory), card_stamp, weights_stamp))


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The hex SHA-256 of a file, read in chunks so large weights never sit in memory whole."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_stamp(path: Path, directory: Path) -> tuple[int, int, int]:
    """What identifies a file's version for the cache: inode, size and modification time."""
    try:
        stat = path.stat()
    except FileNotFoundError as error:
        raise WeightsError(f"The weights directory {directory} has no {path.name}.") from error
    except OSError as error:
        raise WeightsError(f"{path} cannot be read: {error}.") from error
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


# The stamps are arguments only so that they take part in the cache key.
@functools.lru_cache(maxsize=32)
def _describe_directory(
    directory: str, card_stamp: tuple[int, int, int], weights_stamp: tuple[int, int, int]
) -> ModelCard:
    card = ModelCard.load(Path(directory) / CARD_FILENAME)
    actual = verified_sha256(Path(directory) / WEIGHTS_FILENAME, card.weights_sha256)
    return dataclasses.replace(card, weights_sha256=actual)


def verified_sha256(weights_path: Path, recorded: str | None) -> str:
    """The weights file's SHA-256; WeightsError when it is unreadable or differs from the card's record."""
    try:
        actual = sha256_file(weights_path)
    except OSError as error:
        raise WeightsError(f"{weights_path} cannot be read: {error}.") from error
    if recorded is not None and recorded != actual:
        raise WeightsError(
            f"{weights_path} has SHA-256 {actual}, but {CARD_FILENAME} records {recorded}: "
            "the weights file was changed or replaced after the card was written."
        )
    return actual
