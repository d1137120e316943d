"""The Keras model on TensorFlow: the reference runtime, and the one used on a GPU.

Importing this module imports TensorFlow, so only the engine's Keras path and the tests do.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from ml.classifier.network import feature_map_model, logits_kernel


class KerasRuntime:
    """A Keras DenseNet121 answering (feature maps, probabilities) for preprocessed images."""

    name = "keras-tensorflow"

    def __init__(self, model: keras.Model) -> None:
        self._model = model
        self._explainer = feature_map_model(model)
        input_size, _, channels = model.input_shape[1:]
        # A fixed signature (any batch size) means one trace per process, not one per call.
        self._forward = tf.function(
            self._forward_pass,
            input_signature=[
                tf.TensorSpec((None, input_size, input_size, channels), tf.float32, name="images")
            ],
        )

    @property
    def head_kernel(self) -> np.ndarray:
        # Read on each call so the maps always use the weights the pass used.
        return logits_kernel(self._model)

    def run(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        feature_maps, probabilities = self._forward(tf.constant(images))
        return feature_maps.numpy(), probabilities.numpy().astype(np.float32)

    def _forward_pass(self, images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        feature_maps, logits = self._explainer(images, training=False)
        return feature_maps, tf.sigmoid(logits)
