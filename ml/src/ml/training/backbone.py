"""What any architecture's training stages set up: which layers train, and a fresh optimizer.

The classifier's DenseNet121 choices (ImageNet initialisation, which dense blocks unfreeze) are
``ml.classifier.training.backbone``'s; the screener's and the CT model's are their own, each
built on ``train_from``.
"""

from __future__ import annotations

import keras
import numpy as np


def train_from(model: keras.Model, start: int, *, head: tuple[str, ...], train_batchnorm: bool) -> int:
    """Freeze ``model``'s layers before index ``start`` (the ``head`` layers always train).

    Batch normalisation layers from ``start`` on train only if ``train_batchnorm``. Returns
    the number of trainable weights. Any architecture's stages are set up this way.
    """
    for index, layer in enumerate(model.layers):
        if layer.name in head:
            layer.trainable = True
        elif index < start:
            layer.trainable = False
        elif isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = train_batchnorm
        else:
            layer.trainable = True
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


def make_optimizer(name: str, learning_rate: float) -> keras.optimizers.Optimizer:
    """A fresh optimizer for a stage (a run's ``optimizer`` setting: "adam" or "rmsprop")."""
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=learning_rate)
    return keras.optimizers.Adam(learning_rate=learning_rate)
