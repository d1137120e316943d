"""Class-balanced binary cross-entropy for multi-label training on rare findings.

Most ChestX-ray14 findings are present in a few percent of images, so plain binary
cross-entropy is dominated by negatives. As in Wang et al. 2017, each finding's positive
and negative terms are weighted by the inverse of their frequency in the training set,
here normalised so that each finding's weights average one over the training images:
w+ = n / (2 P) and w- = n / (2 N), with P positives and N negatives among n images.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


def class_balance_weights(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positive weights, negative weights) per finding from (n, C) 0/1 training labels.

    A finding whose training images are all negative (or all positive) gets weights of 1:
    there is nothing to balance.
    """
    labels = np.asarray(labels, dtype=np.float64)
    if labels.ndim != 2 or labels.shape[0] == 0:
        raise ValueError(f"Expected (n, C) labels with n > 0, got shape {labels.shape}.")
    n = labels.shape[0]
    positives = labels.sum(axis=0)
    negatives = n - positives
    balanced = (positives > 0) & (negatives > 0)
    positive_weights = np.where(balanced, n / (2.0 * np.maximum(positives, 1)), 1.0)
    negative_weights = np.where(balanced, n / (2.0 * np.maximum(negatives, 1)), 1.0)
    return positive_weights.astype(np.float32), negative_weights.astype(np.float32)


@keras.saving.register_keras_serializable(package="cxr")
class ClassBalancedBinaryCrossentropy(keras.losses.Loss):
    """Weighted binary cross-entropy computed from logits, averaged over findings.

    Working on logits (softplus form) keeps the loss exact where a sigmoid saturates, and
    it is computed in float32 even when the model runs in mixed precision.
    """

    def __init__(
        self,
        positive_weights: list[float] | np.ndarray,
        negative_weights: list[float] | np.ndarray,
        name: str = "class_balanced_bce",
        **kwargs: object,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.positive_weights = [float(value) for value in positive_weights]
        self.negative_weights = [float(value) for value in negative_weights]
        if len(self.positive_weights) != len(self.negative_weights):
            raise ValueError("positive_weights and negative_weights must have one entry per finding.")

    def call(self, y_true: object, y_pred: object) -> object:
        labels = ops.cast(y_true, "float32")
        logits = ops.cast(y_pred, "float32")
        positive = ops.convert_to_tensor(self.positive_weights, dtype="float32")
        negative = ops.convert_to_tensor(self.negative_weights, dtype="float32")
        # -log(sigmoid(z)) = softplus(-z) and -log(1 - sigmoid(z)) = softplus(z).
        losses = positive * labels * ops.softplus(-logits) + negative * (1.0 - labels) * ops.softplus(logits)
        return ops.mean(losses, axis=-1)

    def get_config(self) -> dict[str, object]:
        config = super().get_config()
        config.update(positive_weights=self.positive_weights, negative_weights=self.negative_weights)
        return config
