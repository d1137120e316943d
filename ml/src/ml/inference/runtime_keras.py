"""The Keras model on TensorFlow: the reference runtime, and the one used on a GPU.

Importing this module imports TensorFlow, so only the engine's Keras path and the tests do.
"""

from __future__ import annotations

import logging

import keras
import numpy as np
import tensorflow as tf

from ml.inference.model import feature_map_model, logits_kernel

logger = logging.getLogger("ml.inference.engine")


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


def configure_threads(threads: int) -> None:
    """Set TensorFlow's intra-op threads to ``threads``, inter-op to at most 2.

    This only works before TensorFlow runs its first op; later, a differing request is
    logged and ignored, because TensorFlow cannot change its thread pools once created.
    """
    intra = threads
    # DenseNet is one long chain of layers: more than two independent ops rarely run at once.
    inter = min(2, intra)
    current = (
        tf.config.threading.get_intra_op_parallelism_threads(),
        tf.config.threading.get_inter_op_parallelism_threads(),
    )
    if current == (intra, inter):
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra)
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    except RuntimeError:
        logger.warning(
            "TensorFlow was already initialised with %s intra-op / %s inter-op threads; "
            "keeping them instead of the requested %s / %s.",
            *current,
            intra,
            inter,
        )


def gpu_visible() -> bool:
    """Whether TensorFlow sees a GPU (only asked where a GPU driver is present at all)."""
    return bool(tf.config.list_physical_devices("GPU"))
