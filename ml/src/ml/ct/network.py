"""The CT slice ResNet-18 with its weights: what the engine converts and its Keras backend runs.

Importing this module imports TensorFlow (through Keras): only training, the engine's
converter and its Keras backend do.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keras

from ml.cards.files import WEIGHTS_FILENAME
from ml.ct.card import CT_UNTRAINED_SEED, CTModelCard
from ml.ct.model import build_resnet18
from ml.weights.directory import load_weights_file


def load_ct_network(card: CTModelCard, weights_dir: str | os.PathLike[str] | None) -> keras.Model:
    """The card's ResNet-18 with the directory's weights, or the seeded untrained one for None."""
    if weights_dir is None:
        # The untrained network is the same on every machine: its seed is in its version.
        keras.utils.set_random_seed(CT_UNTRAINED_SEED)
    model = build_resnet18(card.input_size, card.base_filters)
    if weights_dir is not None:
        load_weights_file(model, Path(weights_dir).expanduser().resolve() / WEIGHTS_FILENAME)
    return model


def keras_network(card: dict[str, Any], weights_dir: str | None) -> keras.Model:
    """The engine's builder (``ml.engine.source``): the network of a card's JSON and its weights directory."""
    return load_ct_network(CTModelCard.from_dict(card), weights_dir)
