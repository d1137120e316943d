"""Read and write weights directories (``card.json`` + ``model.weights.h5``).

Loading is all or nothing: the file's arrays are checked against the model before Keras
assigns them, every Keras complaint becomes a WeightsError, and callers discard the model
on any error, so a half-loaded model is never used.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import warnings
from collections import Counter
from pathlib import Path
from typing import Protocol, TypeVar, runtime_checkable

import h5py
import keras

from ml.cards.files import CARD_FILENAME, WEIGHTS_FILENAME, sha256_file
from ml.errors import WeightsError


@runtime_checkable
class LabelledCard(Protocol):
    """A card whose model this module can check before writing: the radiograph classifier's, the CT
    analyser's (input size, channels and one output per label)."""

    @property
    def input_size(self) -> int: ...

    @property
    def input_channels(self) -> int: ...

    @property
    def labels(self) -> tuple[str, ...]: ...

    def save(self, path: str | os.PathLike[str]) -> None: ...


# Any card dataclass with ``weights_sha256`` and ``save``.
CardT = TypeVar("CardT")

# Keras reports some partial loads (layers it could not match in the file) as warnings.
_PARTIAL_LOAD_WARNINGS = ("could not be loaded", "Skipping")


def save_weights_directory(model: keras.Model, directory: str | os.PathLike[str], card: CardT) -> CardT:
    """Write ``model``'s weights and ``card`` (with the file's SHA-256) into ``directory``.

    Returns the card as written. The weights file is written under a temporary name and
    renamed, and the card goes last, so a reader never pairs a new card with old weights.
    A labelled card (the classifier's ``ModelCard``, the CT analyser's) is checked against the
    model here; other cards (segmentation, screener) are checked by their callers.
    """
    if isinstance(card, LabelledCard):
        check_model_matches_card(model, card)
    directory = Path(directory)
    digest = write_weights_file(model, directory)
    written = dataclasses.replace(card, weights_sha256=digest)
    written.save(directory / CARD_FILENAME)
    return written


def write_weights_file(model: keras.Model, directory: str | os.PathLike[str]) -> str:
    """Write ``model``'s weights as ``directory/model.weights.h5`` atomically; return its SHA-256.

    Any card (the classifier's, the screener's) is written after it, so a reader never
    pairs a new card with old weights.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    # Keras insists that weights files end in ".weights.h5".
    descriptor, temporary = tempfile.mkstemp(prefix=".model-", suffix=".weights.h5", dir=directory)
    os.close(descriptor)
    try:
        model.save_weights(temporary, overwrite=True)
        digest = sha256_file(temporary)
        os.replace(temporary, directory / WEIGHTS_FILENAME)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return digest


def load_weights_file(model: keras.Model, weights_path: str | os.PathLike[str]) -> None:
    """Load a ``model.weights.h5`` into ``model``; raise WeightsError if it does not fit exactly."""
    weights_path = Path(weights_path)
    _check_file_matches_model(model, weights_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.load_weights(weights_path)
        except (ValueError, OSError, KeyError, TypeError) as error:
            raise WeightsError(
                f"{weights_path} does not fit the model's architecture: {_first_line(error)}"
            ) from error
    partial = [
        str(warning.message)
        for warning in caught
        if any(marker in str(warning.message) for marker in _PARTIAL_LOAD_WARNINGS)
    ]
    if partial:
        raise WeightsError(
            f"{weights_path} only partly fits the model's architecture: {_first_line(partial[0])}"
        )


def _check_file_matches_model(model: keras.Model, weights_path: Path) -> None:
    """Compare the shapes of the file's arrays with the model's before assigning any."""
    stored: list[tuple[int, ...]] = []
    try:
        with h5py.File(weights_path, "r") as handle:
            layers = handle.get("layers")
            if not isinstance(layers, h5py.Group):
                raise WeightsError(f"{weights_path} is an HDF5 file but not Keras 3 model weights.")
            # Only the layers' arrays count: a file saved from a compiled model also holds
            # optimizer state, which inference neither needs nor loads.
            layers.visititems(lambda _name, item: _collect_shape(item, stored))
    except OSError as error:
        raise WeightsError(
            f"{weights_path} is not a readable Keras weights file: {_first_line(error)}"
        ) from error
    expected = Counter(tuple(weight.shape) for weight in model.weights)
    found = Counter(stored)
    if found != expected:
        surplus = sorted((found - expected).elements())[:3]
        lacking = sorted((expected - found).elements())[:3]
        raise WeightsError(
            f"{weights_path} does not fit the model: it was saved from a different architecture or "
            f"number of labels ({len(stored)} arrays for {len(model.weights)} expected; shapes such as "
            f"{surplus} are unexpected and {lacking} are missing)."
        )


def _collect_shape(item: h5py.Group | h5py.Dataset, shapes: list[tuple[int, ...]]) -> None:
    if isinstance(item, h5py.Dataset):
        shapes.append(tuple(item.shape))


def check_model_matches_card(model: keras.Model, card: LabelledCard) -> None:
    expected_input = (None, card.input_size, card.input_size, card.input_channels)
    expected_output = (None, len(card.labels))
    if tuple(model.input_shape) != expected_input or tuple(model.output_shape) != expected_output:
        raise ValueError(
            f"The model (input {model.input_shape}, output {model.output_shape}) does not match the "
            f"card (input {expected_input}, output {expected_output})."
        )


def _first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
