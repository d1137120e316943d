"""A Keras network's inference-mode forward pass, on TensorFlow: the Keras backend and the converter's trace.

Importing this module imports TensorFlow, so only the Keras backend, the converter's child
process, training and the tests do.
"""

from __future__ import annotations

import importlib
import logging

import keras
import numpy as np
import tensorflow as tf

from ml.engine.source import NetworkSource

logger = logging.getLogger(__name__)

KERAS_BACKEND_NAME = "keras-tensorflow"


def predictor(model: keras.Model) -> tf.types.experimental.PolymorphicFunction:
    """The model's inference-mode forward pass, traced once for any batch size.

    ``training=False`` is said, not left to Keras: called with ``training=None`` (as
    ``model.export`` and OpenVINO's conversion of a Keras model do), Keras 3.15 runs at least
    one batch normalisation of the PSPNet on the batch's statistics.
    """
    _, size, _, channels = model.input_shape
    return tf.function(
        lambda images: model(images, training=False),
        input_signature=[tf.TensorSpec((None, size, size, channels), tf.float32)],
    )


def build_keras_model(source: NetworkSource) -> keras.Model:
    """The network ``source`` names, built by its builder in this process."""
    module_name, _, function_name = source.builder.partition(":")
    builder = getattr(importlib.import_module(module_name), function_name)
    model = builder(**source.arguments)
    if not isinstance(model, keras.Model):
        raise TypeError(f"{source.builder} returned a {type(model).__name__}, not a keras.Model.")
    return model


class KerasNetwork:
    """A Keras network run on TensorFlow, answering its output for a batch of inputs."""

    name = KERAS_BACKEND_NAME

    def __init__(self, model: keras.Model) -> None:
        self.model = model
        self._forward = predictor(model)

    def run(self, images: np.ndarray) -> np.ndarray:
        return np.asarray(self._forward(np.asarray(images, dtype=np.float32)), dtype=np.float32)


def configure_threads(threads: int) -> None:
    """Set TensorFlow's intra-op threads to ``threads``, inter-op to at most 2.

    This only works before TensorFlow runs its first op; later, a differing request is
    logged and ignored, because TensorFlow cannot change its thread pools once created.
    """
    intra = threads
    # These networks are long chains of layers: more than two independent ops rarely run at once.
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
