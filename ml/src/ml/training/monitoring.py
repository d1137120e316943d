"""What a run watches and says as it goes: the validation mean AUROC and its progress lines.

Keras reports only the loss, but a run is steered (learning-rate cuts, early stopping, the
best epoch) by the validation mean AUROC, which the ``ValidationAUROC`` callback adds to
every epoch's logs under ``MONITOR``. The same inference-mode predictor scores the best
epoch's weights for the card, so the thresholds are chosen on the outputs that were monitored.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ml.evaluation.metrics import auroc

# The log key the learning-rate schedule, early stopping and the checkpoints all follow.
MONITOR = "val_mean_auroc"


class ValidationAUROC(keras.callbacks.Callback):
    """Adds the validation mean AUROC (over labels with both classes) to each epoch's logs.

    ``pool``, when given, turns the outputs of the dataset's items into the cases ``truth``
    describes before the AUROC is computed (a CT's slices into its patient, say).
    """

    def __init__(
        self,
        predict: tf.types.experimental.PolymorphicFunction,
        dataset: Iterable[tuple[Any, Any]],
        truth: np.ndarray,
        labels: tuple[str, ...],
        pool: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        super().__init__()
        self.predict = predict
        self.dataset = dataset
        self.truth = truth
        self.labels = labels
        self.pool = pool
        self.per_label: dict[str, float | None] = {}
        self.seconds = 0.0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        started = time.monotonic()
        logits = predict(self.predict, self.dataset)
        if self.pool is not None:
            logits = self.pool(logits)
        self.seconds = time.monotonic() - started
        areas = [auroc(self.truth[:, column], logits[:, column]) for column in range(len(self.labels))]
        self.per_label = {
            label: (None if math.isnan(area) else area)
            for label, area in zip(self.labels, areas, strict=True)
        }
        defined = [area for area in areas if not math.isnan(area)]
        if logs is not None:
            logs[MONITOR] = float(np.mean(defined))


def predictor(model: keras.Model) -> tf.types.experimental.PolymorphicFunction:
    """The model's inference-mode forward pass, traced once for any batch size."""
    _, size, _, channels = model.input_shape
    return tf.function(
        lambda images: model(images, training=False),
        input_signature=[tf.TensorSpec((None, size, size, channels), tf.float32)],
    )


def predict(
    function: tf.types.experimental.PolymorphicFunction, dataset: Iterable[tuple[Any, Any]]
) -> np.ndarray:
    """Outputs for every image of an unshuffled (images, labels) dataset, in its order, as float64."""
    return np.concatenate([np.asarray(function(images), dtype=np.float64) for images, _ in dataset])


def say(message: str) -> None:
    """A progress line on stderr, flushed at once so it lands in order with Keras's own output."""
    print(message, file=sys.stderr, flush=True)
