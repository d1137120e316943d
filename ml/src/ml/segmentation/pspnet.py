"""ChestX-Det's PSPNet in Keras, built from ``ml.segmentation.pspnet_layout`` and given its arrays.

Layer names are the checkpoint's module paths with dots as underscores, so an imported
array finds its layer by name. Padding is explicit (a ZeroPadding2D before a "valid"
convolution) because PyTorch pads stride-2 convolutions symmetrically where Keras's "same"
does not; the max pool's zero padding equals PyTorch's -inf padding there because its input
follows a ReLU. Bilinear resizing is Keras's (half-pixel centres), which is PyTorch's
``align_corners=False``, the default of the ``F.upsample`` calls in ptsemseg.
"""

from __future__ import annotations

from collections.abc import Mapping

import keras
import numpy as np

from ml.segmentation.pspnet_layout import (
    POOL_SIZES,
    PUBLISHED_BLOCK_CONFIG,
    ConvUnit,
    PSPNetLayout,
    feature_side,
    pspnet_layout,
    pyramid_pool_sizes,
)

# PyTorch's BatchNorm2d default; the published checkpoint was trained with it.
TORCH_BN_EPSILON = 1e-5
INPUT_CHANNELS = 3


def build_pspnet(
    num_classes: int, input_size: int, block_config: tuple[int, ...] = PUBLISHED_BLOCK_CONFIG
) -> keras.Model:
    """The PSPNet's eval-mode forward pass: logits (batch, input_size, input_size, num_classes)."""
    layout = pspnet_layout(num_classes, tuple(block_config))
    side = feature_side(input_size)
    if side < max(POOL_SIZES):
        raise ValueError(f"The PSPNet needs an input of at least 48 pixels, not {input_size}.")
    inputs = keras.Input((input_size, input_size, INPUT_CHANNELS), name="image")
    x = inputs
    for unit in layout.stem:
        x = _conv_unit(unit, x)
    x = keras.layers.ZeroPadding2D(1, name="stem_pool_pad")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, name="stem_pool")(x)
    for blocks in layout.stages:
        for block in blocks:
            residual = _conv_unit(block.cb4, x) if block.cb4 is not None else x
            branch = _conv_unit(block.cb3, _conv_unit(block.cbr2, _conv_unit(block.cbr1, x)))
            name = block.cbr1.prefix.rsplit(".", 2)[0].replace(".", "_")
            x = keras.layers.ReLU(name=f"{name}_out")(
                keras.layers.Add(name=f"{name}_add")([branch, residual])
            )
    paths = [x]
    for unit, kernel in zip(layout.pyramid, pyramid_pool_sizes(side), strict=True):
        pooled = keras.layers.AveragePooling2D(kernel, strides=kernel, name=f"{unit.keras_name}_pool")(x)
        path = _conv_unit(unit, pooled)
        paths.append(keras.layers.Resizing(side, side, "bilinear", name=f"{unit.keras_name}_upsample")(path))
    x = keras.layers.Concatenate(name="pyramid_pooling_concat")(paths)
    x = _conv_unit(layout.final, x)
    x = _conv_unit(layout.classification, x)
    logits = keras.layers.Resizing(input_size, input_size, "bilinear", dtype="float32", name="logits")(x)
    return keras.Model(inputs, logits, name="pspnet")


def assign_pspnet_weights(model: keras.Model, layout: PSPNetLayout, state: Mapping[str, np.ndarray]) -> None:
    """Give ``model`` the arrays of a PyTorch state dict (keys as ``layout`` names them, no prefix)."""
    for unit in layout.units():
        conv = model.get_layer(f"{unit.keras_name}_conv")
        if unit.batchnorm:
            conv.set_weights([_keras_kernel(state[f"{unit.prefix}.0.weight"])])
            model.get_layer(f"{unit.keras_name}_bn").set_weights(
                [
                    state[f"{unit.prefix}.1.{name}"]
                    for name in ("weight", "bias", "running_mean", "running_var")
                ]
            )
        else:
            conv.set_weights([_keras_kernel(state[f"{unit.prefix}.weight"]), state[f"{unit.prefix}.bias"]])


def _keras_kernel(kernel: np.ndarray) -> np.ndarray:
    """PyTorch's (out, in, kh, kw) kernel in Keras's (kh, kw, in, out) layout."""
    return np.ascontiguousarray(np.transpose(kernel, (2, 3, 1, 0)), dtype=np.float32)


def _conv_unit(unit: ConvUnit, x: keras.KerasTensor) -> keras.KerasTensor:
    name = unit.keras_name
    if unit.padding:
        x = keras.layers.ZeroPadding2D(unit.padding, name=f"{name}_pad")(x)
    x = keras.layers.Conv2D(
        unit.out_channels,
        unit.kernel,
        strides=unit.stride,
        dilation_rate=unit.dilation,
        use_bias=not unit.batchnorm,
        name=f"{name}_conv",
    )(x)
    if unit.batchnorm:
        x = keras.layers.BatchNormalization(epsilon=TORCH_BN_EPSILON, name=f"{name}_bn")(x)
    if unit.relu:
        x = keras.layers.ReLU(name=f"{name}_relu")(x)
    return x
