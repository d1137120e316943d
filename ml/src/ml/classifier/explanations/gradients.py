"""Gradients of one finding's logit with respect to the network's input, on TensorFlow.

The gradient methods (saliency, SmoothGrad, integrated gradients) differentiate the *logit* of
the finding, not its probability: the sigmoid flattens the gradient of a confident finding to
almost nothing, and integrated gradients then satisfy completeness on the logit
(attributions sum to logit(x) - logit(baseline)). Importing this module imports TensorFlow.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from ml.classifier.network import LOGITS_LAYER

# Inputs per backward pass: DenseNet121 at 224 pixels keeps about 0.3 GB of activations per image.
GRADIENT_BATCH = 8

_GradientFunction = Callable[[tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]
_compiled: weakref.WeakKeyDictionary[keras.Model, _GradientFunction] = weakref.WeakKeyDictionary()


def logit_gradients(
    model: keras.Model, images: np.ndarray, class_index: int
) -> tuple[np.ndarray, np.ndarray]:
    """The class's logits (N,) and their gradients (N, H, W, C) for preprocessed ``images``."""
    function = _compiled.get(model)
    if function is None:
        function = _compile(model)
        _compiled[model] = function
    images = np.asarray(images, dtype=np.float32)
    logits, gradients = [], []
    index = tf.constant(class_index, dtype=tf.int32)
    for start in range(0, len(images), GRADIENT_BATCH):
        batch_logits, batch_gradients = function(tf.constant(images[start : start + GRADIENT_BATCH]), index)
        logits.append(batch_logits.numpy())
        gradients.append(batch_gradients.numpy())
    return np.concatenate(logits).astype(np.float64), np.concatenate(gradients).astype(np.float32)


def _compile(model: keras.Model) -> _GradientFunction:
    """One traced function per model (any batch size), so each call does not trace again."""
    try:
        logits_output = model.get_layer(LOGITS_LAYER).output
    except ValueError as error:
        raise ValueError(
            f"The model has no '{LOGITS_LAYER}' layer; build it with build_densenet121."
        ) from error
    logits_model = keras.Model(inputs=model.input, outputs=logits_output)
    size, _, channels = model.input_shape[1:]

    @tf.function(
        input_signature=[
            tf.TensorSpec((None, size, size, channels), tf.float32),
            tf.TensorSpec((), tf.int32),
        ]
    )
    def gradients(images: tf.Tensor, class_index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        with tf.GradientTape() as tape:
            tape.watch(images)
            logits = logits_model(images, training=False)[:, class_index]
            # The sum's gradient is each image's own gradient: the images do not interact.
            total = tf.reduce_sum(logits)
        return logits, tape.gradient(total, images)

    return gradients
