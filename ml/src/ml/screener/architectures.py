"""The screener's networks, one probability out, and which of their layers each stage trains.

- ``inceptionv3``: ``keras.applications.InceptionV3`` (``weights=None``: nothing is
  downloaded), 299 pixels by default and 75 at least, with a global-average pool and one
  logit; its "top blocks" are the last two inception blocks (``mixed9`` and ``mixed10``), as
  in Keras's fine-tuning guide.
- ``elu-cnn``: the small CNN with ELU activations of the COVID-19 radiograph study that
  compared greyscale with RGB input: four 3x3 convolution blocks (16 to 128 filters), each
  max-pooled, then the same pool and logit; its "top block" is the last convolution block.

Both end in a linear logit (float32 under mixed precision, so the loss and the
probability are exact) and a sigmoid, so training reads the logits and serving the
probability.
"""

from __future__ import annotations

import keras
import numpy as np

from ml.screener.card import ARCHITECTURES
from ml.screener.config import UNFREEZE_CHOICES
from ml.training.backbone import train_from

INPUT_LAYER = "radiograph"
POOL_LAYER = "features_pool"
LOGITS_LAYER = "screener_logits"
PROBABILITY_LAYER = "screener_probability"
ELU_FILTERS = (16, 32, 64, 128)
# The first layer of each architecture's top block(s), which stage 2 unfreezes by default.
_TOP_BLOCK_AFTER = {"inceptionv3": "mixed8", "elu-cnn": "block3_pool"}


def build_screener(architecture: str, input_size: int, channels: int) -> keras.Model:
    """A freshly initialised screener returning P(abnormal), shape (batch, 1)."""
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}, not {architecture!r}.")
    minimum = ARCHITECTURES[architecture]
    if isinstance(input_size, bool) or not isinstance(input_size, int) or input_size < minimum:
        raise ValueError(f"{architecture} needs an input size of at least {minimum}, not {input_size!r}.")
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, not {channels!r}.")
    inputs = keras.Input(shape=(input_size, input_size, channels), name=INPUT_LAYER)
    if architecture == "inceptionv3":
        # Passing our input tensor keeps the backbone's layers in this model's own graph, so
        # the stages can freeze them by name.
        features = keras.applications.InceptionV3(include_top=False, weights=None, input_tensor=inputs).output
    else:
        features = inputs
        for number, filters in enumerate(ELU_FILTERS, start=1):
            features = keras.layers.Conv2D(
                filters, 3, padding="same", activation="elu", name=f"block{number}_conv"
            )(features)
            features = keras.layers.MaxPooling2D(2, name=f"block{number}_pool")(features)
    pooled = keras.layers.GlobalAveragePooling2D(name=POOL_LAYER)(features)
    logits = keras.layers.Dense(1, dtype="float32", name=LOGITS_LAYER)(pooled)
    probability = keras.layers.Activation("sigmoid", dtype="float32", name=PROBABILITY_LAYER)(logits)
    return keras.Model(inputs=inputs, outputs=probability, name=f"{architecture.replace('-', '_')}_screener")


def logits_model(model: keras.Model) -> keras.Model:
    """The model up to its logit, sharing ``model``'s layers: what the loss is computed from."""
    return keras.Model(model.input, model.get_layer(LOGITS_LAYER).output, name=f"{model.name}_logits")


def set_stage_trainable(model: keras.Model, architecture: str, unfreeze: str | None) -> int:
    """Train the head only (None), the top block(s) and head ("top") or everything ("all").

    Returns the number of trainable weights. Batch normalisation trains wherever its layer
    does: the backbone starts from random weights (no ImageNet file is downloaded), so its
    statistics must be learnt.
    """
    names = [layer.name for layer in model.layers]
    if unfreeze is None:
        start = len(names)
    elif unfreeze == "all":
        start = 0
    elif unfreeze == "top":
        start = names.index(_TOP_BLOCK_AFTER[architecture]) + 1
    else:
        raise ValueError(f"unfreeze must be one of {', '.join(UNFREEZE_CHOICES)}, not {unfreeze!r}.")
    return train_from(model, start, head=(LOGITS_LAYER,), train_batchnorm=True)


def describe_stage(unfreeze: str | None) -> str:
    """``set_stage_trainable``'s choice in words, for the stage's progress line."""
    return {None: "head only, backbone frozen", "top": "top block(s) and head", "all": "all layers"}[unfreeze]


def seed_weights(model: keras.Model, seed: int) -> None:
    """Give every kernel Glorot-uniform values drawn from NumPy's generator seeded with ``seed``.

    Keras's own initialisers depend on TensorFlow's random state; this fixes the untrained
    screener's weights (and so its outputs) for a seed, in any process, without touching the
    process's global random state. Biases and normalisation keep their constant initial values.
    """
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        shape = tuple(variable.shape)
        if len(shape) < 2 or "kernel" not in variable.path:
            continue
        receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
        fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        variable.assign(rng.uniform(-limit, limit, size=shape).astype(np.float32))
