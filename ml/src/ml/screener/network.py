"""The screener's Keras network with its weights: what training saves and the engine converts.

Importing this module imports TensorFlow (through Keras): only training, the engine's
converter and its Keras backend do.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keras

from ml.cards.files import WEIGHTS_FILENAME
from ml.screener.architectures import build_screener, seed_weights
from ml.screener.card import UNTRAINED_SEED, ScreenerCard
from ml.weights.directory import load_weights_file


def load_screener_network(card: ScreenerCard, weights_dir: str | os.PathLike[str] | None) -> keras.Model:
    """The card's network with the directory's weights, or the seeded untrained one for None."""
    model = build_screener(card.architecture, card.input_size, card.input_channels)
    if weights_dir is None:
        seed_weights(model, UNTRAINED_SEED)
    else:
        load_weights_file(model, Path(weights_dir).expanduser() / WEIGHTS_FILENAME)
    return model


def keras_network(card: dict[str, Any], weights_dir: str | None) -> keras.Model:
    """The engine's builder (``ml.engine.source``): the network of a card's JSON and its weights directory."""
    return load_screener_network(ScreenerCard.from_dict(card), weights_dir)
