"""The network a segmentation card names, built in Keras, and its weights directory.

Importing this module imports TensorFlow (through Keras): only the analyser, training and
the importer do.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keras

from ml.cards.files import WEIGHTS_FILENAME
from ml.errors import WeightsError
from ml.segmentation.card import UNTRAINED_SEED, SegmentationCard
from ml.segmentation.pspnet import build_pspnet
from ml.segmentation.unet import build_unet
from ml.weights.directory import load_weights_file, save_weights_directory


def build_network(card: SegmentationCard) -> keras.Model:
    """The card's network with fresh weights (seeded, so an untrained one is the same everywhere)."""
    keras.utils.set_random_seed(UNTRAINED_SEED)
    architecture = card.architecture
    try:
        if architecture["name"] == "pspnet":
            return build_pspnet(len(card.structures), card.input_size, tuple(architecture["block_config"]))
        return build_unet(
            len(card.structures),
            card.input_size,
            tuple(architecture["decoder_filters"]),
            tuple(architecture.get("encoder_scale", (1.0, 1.0))),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise WeightsError(
            f"The segmentation card's architecture {architecture} cannot be built: {error}."
        ) from error


def load_network(card: SegmentationCard, weights_dir: str | os.PathLike[str] | None) -> keras.Model:
    """The card's network with the directory's weights, or the seeded untrained one for None."""
    model = build_network(card)
    if weights_dir is not None:
        load_weights_file(model, Path(weights_dir) / WEIGHTS_FILENAME)
    return model


def keras_network(card: dict[str, Any], weights_dir: str | None) -> keras.Model:
    """The engine's builder (``ml.engine.source``): the network of a card's JSON and its weights directory."""
    return load_network(SegmentationCard.from_dict(card), weights_dir)


def save_network(
    model: keras.Model, directory: str | os.PathLike[str], card: SegmentationCard
) -> SegmentationCard:
    """Write ``card.json`` + ``model.weights.h5``; return the card as written (with the weights' SHA-256)."""
    expected = (None, card.input_size, card.input_size, len(card.structures))
    if tuple(model.output_shape) != expected:
        raise ValueError(f"The network's output {model.output_shape} does not match the card's {expected}.")
    return save_weights_directory(model, directory, card)
