"""ResNet-18 (He et al. 2016, basic blocks [2, 2, 2, 2]) in Keras for greyscale CT slices.

Written out here rather than taken from ``keras.applications`` (which has no ResNet-18 and
would download ImageNet weights). ``base_filters`` is 64 for the published network; smaller
values give the same architecture, narrower, for tests. The output is one sigmoid
probability per slice (severe involvement); the logits layer is named so training can
compute its loss from logits.
"""

from __future__ import annotations

import keras
from keras import layers

LOGITS_LAYER = "ct_logits"
BLOCKS_PER_STAGE = (2, 2, 2, 2)


def build_resnet18(input_size: int, base_filters: int = 64) -> keras.Model:
    """A ResNet-18 scoring one (input_size, input_size, 1) slice in [0, 1]."""
    inputs = keras.Input((input_size, input_size, 1), name="slice")
    x = layers.Conv2D(base_filters, 7, strides=2, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    for stage, blocks in enumerate(BLOCKS_PER_STAGE):
        filters = base_filters * 2**stage
        for block in range(blocks):
            strides = 2 if stage > 0 and block == 0 else 1
            x = _basic_block(x, filters, strides, f"stage{stage + 1}_block{block + 1}")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    # Float32 outputs even under mixed precision: the loss and probabilities need the range.
    logits = layers.Dense(1, dtype="float32", name=LOGITS_LAYER)(x)
    probability = layers.Activation("sigmoid", dtype="float32", name="ct_probability")(logits)
    return keras.Model(inputs, probability, name="resnet18_ct")


def _basic_block(x: keras.KerasTensor, filters: int, strides: int, name: str) -> keras.KerasTensor:
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False, name=f"{name}_down_conv")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_down_bn")(shortcut)
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    y = layers.BatchNormalization(name=f"{name}_bn1")(y)
    y = layers.ReLU(name=f"{name}_relu1")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.ReLU(name=f"{name}_out")(y)
