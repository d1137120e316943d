"""ImageNet initialisation of the DenseNet121 backbone from a weights file already on disk.

Nothing is downloaded. Keras keeps the file it downloads for
``keras.applications.DenseNet121(weights="imagenet", include_top=False)`` as
``$KERAS_HOME/models/densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5`` (KERAS_HOME
defaults to ``~/.keras``); if it is there, or a path is given, training starts from it.

The ImageNet network expects RGB images scaled to [0, 1] and then normalised per channel
with ImageNet's mean and standard deviation, while ours reads one grey channel (or three
equal ones) scaled to [low, high] (by default [-1024, 1024]). Both are affine maps of the
same grey level, and the first convolution has no bias and feeds a batch normalisation,
so the difference folds exactly into the weights: the first kernel is rescaled (and, for
one channel, summed over RGB) and the constant offset moves into the normalisation's
moving mean. Only the first layer's zero padding sees a different value (black instead
of ImageNet's mean), which touches a 3-pixel border.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np

from ml.images.preprocessing import IMAGENET_MEAN, IMAGENET_STD, PreprocessingSpec

IMAGENET_FILENAME = "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5"
FIRST_CONV = "conv1_conv"
FIRST_NORM = "conv1_bn"


def default_imagenet_path() -> Path:
    """Where Keras keeps the downloaded DenseNet121 no-top ImageNet weights."""
    home = os.environ.get("KERAS_HOME") or str(Path("~/.keras").expanduser())
    return Path(home) / "models" / IMAGENET_FILENAME


def load_imagenet_backbone(model: keras.Model, weights_path: Path, spec: PreprocessingSpec) -> int:
    """Copy ImageNet DenseNet121 weights into ``model``'s backbone; return the number of layers set.

    ``model`` is ``ml.classifier.network.build_densenet121``'s; its head keeps its fresh initialisation.
    Raises ValueError if the file does not fit DenseNet121.
    """
    size = int(model.input_shape[1])
    channels = int(model.input_shape[-1])
    reference = keras.applications.DenseNet121(include_top=False, weights=None, input_shape=(size, size, 3))
    try:
        reference.load_weights(str(weights_path))
    except (ValueError, OSError, KeyError) as error:
        raise ValueError(f"{weights_path} is not DenseNet121 no-top weights: {error}") from error
    copied = 0
    for source in reference.layers:
        if not source.weights:
            continue
        try:
            target = model.get_layer(source.name)
        except ValueError as error:
            raise ValueError(f"The model has no layer {source.name!r} to take ImageNet weights.") from error
        values = [np.asarray(weight) for weight in source.get_weights()]
        if source.name == FIRST_CONV:
            values[0], offset = _fold_input_scaling(values[0], spec, channels)
        if source.name == FIRST_NORM:
            # Keras's BatchNormalization keeps [gamma, beta, moving_mean, moving_variance].
            values[2] = values[2] - offset
        target.set_weights(values)
        copied += 1
    return copied


def _fold_input_scaling(
    kernel: np.ndarray, spec: PreprocessingSpec, channels: int
) -> tuple[np.ndarray, np.ndarray]:
    """The first kernel for our input scaling, and the per-filter offset left over.

    With x our input and u = (x - low) / (high - low) the grey level in [0, 1], ImageNet's
    input in channel c is (u - mean_c) / std_c = x / (span std_c) + (-low / span - mean_c) / std_c.
    """
    low, high = spec.scale
    span = high - low
    mean, std = np.asarray(IMAGENET_MEAN), np.asarray(IMAGENET_STD)
    scale = 1.0 / (span * std)  # per input channel
    shift = (-low / span - mean) / std
    scaled = kernel * scale[None, None, :, None]
    offset = np.einsum("hwco,c->o", kernel, shift)
    if channels == 1:
        scaled = scaled.sum(axis=2, keepdims=True)
    return scaled.astype(np.float32), offset.astype(np.float32)
