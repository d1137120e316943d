"""Which classifier is active, described cheaply from its weights directory.

The web process calls ``describe_active_model`` on every upload (to record the card and
key the result cache), so this module must never import TensorFlow or Keras; the card of a
directory is remembered until one of its files changes (``ml.cards.base.Card.describe``).

A weights directory holds two files (``ml.cards.files``):

- ``card.json``: the model card (see ``ml.classifier.card.ModelCard``);
- ``model.weights.h5``: the Keras 3 weights of ``ml.classifier.network.build_densenet121`` for the card's
  labels, input size and channels.
"""

from __future__ import annotations

from ml.cards.files import CARD_FILENAME, WEIGHTS_FILENAME, sha256_file
from ml.classifier.card import MODEL_NAME, UNTRAINED_SEED, WEIGHTS_ENV_VAR, ModelCard, untrained_card

# The names the classifier's callers have always imported from here.
__all__ = [
    "CARD_FILENAME",
    "MODEL_NAME",
    "UNTRAINED_SEED",
    "WEIGHTS_ENV_VAR",
    "WEIGHTS_FILENAME",
    "describe_active_model",
    "sha256_file",
    "untrained_card",
]

# The card of the classifier ``weights_dir`` holds, or the untrained one's for None.
describe_active_model = ModelCard.describe
