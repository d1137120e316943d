"""DenseNet121's parameters, described without any deep-learning framework.

Every backend of this package (the Keras reference, the OpenVINO runtime, the checkpoint
importers and the weights-file reader) speaks of the network's parameters in one neutral
form, ``DenseNetWeights``: a mapping from the Keras layer name (``conv1_conv``,
``conv2_block1_0_bn``, ..., ``bn``, ``findings_logits``) to that layer's arrays in Keras
layout. Convolution kernels are (height, width, in, out), batch-norm layers hold
``gamma``, ``beta``, ``moving_mean`` and ``moving_variance``, and the dense head holds
``kernel`` (in, out) and ``bias``. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from ml.errors import WeightsError

# DenseNet121: 6, 12, 24 and 16 dense layers, growth rate 32, 4x bottleneck, 64 stem filters.
BLOCK_SIZES = (6, 12, 24, 16)
GROWTH_RATE = 32
BOTTLENECK_WIDTH = 4 * GROWTH_RATE
STEM_FILTERS = 64
FEATURE_CHANNELS = 1024
# Keras's DenseNet uses this batch-norm epsilon; PyTorch's default is 1e-5.
KERAS_BN_EPSILON = 1.001e-5
HEAD_LAYER = "findings_logits"
BN_VARIABLES = ("gamma", "beta", "moving_mean", "moving_variance")

DenseNetWeights = dict[str, dict[str, np.ndarray]]


@dataclass(frozen=True)
class Conv:
    """A bias-free convolution (stride 1 with "same" padding unless it is the 7x7 stem)."""

    name: str
    size: int
    in_channels: int
    out_channels: int

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {"kernel": (self.size, self.size, self.in_channels, self.out_channels)}


@dataclass(frozen=True)
class BatchNorm:
    name: str
    channels: int

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        return dict.fromkeys(BN_VARIABLES, (self.channels,))


@dataclass(frozen=True)
class Dense:
    name: str
    in_features: int
    out_features: int

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {"kernel": (self.in_features, self.out_features), "bias": (self.out_features,)}


Layer = Conv | BatchNorm | Dense


def densenet121_layers(input_channels: int, num_classes: int) -> list[Layer]:
    """The layers with parameters, in the order Keras creates them for ``ml.classifier.network``.

    That order matters: Keras 3 weights files name layers by class and creation order
    (``conv2d_17``), and ``ml.classifier.h5`` relies on it to read them without Keras.
    """
    layers: list[Layer] = [
        Conv("conv1_conv", 7, input_channels, STEM_FILTERS),
        BatchNorm("conv1_bn", STEM_FILTERS),
    ]
    channels = STEM_FILTERS
    for block_index, size in enumerate(BLOCK_SIZES):
        block = f"conv{block_index + 2}"
        for layer_index in range(1, size + 1):
            prefix = f"{block}_block{layer_index}"
            layers += [
                BatchNorm(f"{prefix}_0_bn", channels),
                Conv(f"{prefix}_1_conv", 1, channels, BOTTLENECK_WIDTH),
                BatchNorm(f"{prefix}_1_bn", BOTTLENECK_WIDTH),
                Conv(f"{prefix}_2_conv", 3, BOTTLENECK_WIDTH, GROWTH_RATE),
            ]
            channels += GROWTH_RATE
        if block_index < len(BLOCK_SIZES) - 1:
            transition = f"pool{block_index + 2}"
            layers += [
                BatchNorm(f"{transition}_bn", channels),
                Conv(f"{transition}_conv", 1, channels, channels // 2),
            ]
            channels //= 2
    layers += [BatchNorm("bn", channels), Dense(HEAD_LAYER, channels, num_classes)]
    if channels != FEATURE_CHANNELS:
        raise AssertionError(f"DenseNet121 ends with {channels} channels, not {FEATURE_CHANNELS}.")
    return layers


def iter_blocks() -> Iterator[tuple[str, list[str], str | None]]:
    """Each dense block's name, its dense layers' prefixes and its transition's name (or None)."""
    for block_index, size in enumerate(BLOCK_SIZES):
        block = f"conv{block_index + 2}"
        prefixes = [f"{block}_block{index}" for index in range(1, size + 1)]
        transition = f"pool{block_index + 2}" if block_index < len(BLOCK_SIZES) - 1 else None
        yield block, prefixes, transition


def check_weights(
    weights: Mapping[str, Mapping[str, np.ndarray]],
    input_channels: int,
    num_classes: int,
    *,
    source: str,
) -> DenseNetWeights:
    """Check that ``weights`` hold exactly DenseNet121's arrays; return them as float32 copies.

    Raises WeightsError naming ``source`` and the first missing, unexpected or misshapen
    array, so an incomplete set of weights is refused before any of it is used.
    """
    expected = {layer.name: layer.shapes for layer in densenet121_layers(input_channels, num_classes)}
    unexpected = sorted(set(weights) - set(expected))
    if unexpected:
        raise WeightsError(f"{source} has arrays for layers DenseNet121 lacks: {', '.join(unexpected[:5])}.")
    checked: DenseNetWeights = {}
    for name, shapes in expected.items():
        if name not in weights:
            raise WeightsError(f"{source} lacks the layer {name}.")
        arrays = weights[name]
        extra = sorted(set(arrays) - set(shapes))
        if extra:
            raise WeightsError(f"{source} has unexpected arrays {', '.join(extra)} in layer {name}.")
        checked[name] = {}
        for variable, shape in shapes.items():
            if variable not in arrays:
                raise WeightsError(f"{source} lacks {name}/{variable}.")
            array = np.asarray(arrays[variable])
            if tuple(array.shape) != shape:
                raise WeightsError(
                    f"{source} does not fit the model: {name}/{variable} has shape {tuple(array.shape)}, "
                    f"but DenseNet121 with {input_channels} input channel(s) and {num_classes} output(s) "
                    f"needs {shape}; it was saved from a different architecture or number of labels."
                )
            if not np.issubdtype(array.dtype, np.floating):
                raise WeightsError(f"{source}: {name}/{variable} holds {array.dtype} values, not floats.")
            converted = np.array(array, dtype=np.float32, copy=True)
            if not np.all(np.isfinite(converted)):
                raise WeightsError(f"{source}: {name}/{variable} contains NaN or infinite values.")
            checked[name][variable] = converted
        if "moving_variance" in checked[name] and np.any(
            checked[name]["moving_variance"] + KERAS_BN_EPSILON <= 0.0
        ):
            raise WeightsError(f"{source}: {name}/moving_variance has values below zero.")
    return checked


def seeded_untrained_weights(input_channels: int, num_classes: int, seed: int) -> DenseNetWeights:
    """The untrained network's arrays, drawn from a NumPy generator seeded with ``seed``.

    Kernels get Glorot-uniform values (Keras's default for these layers), drawn layer by layer
    in creation order; biases and batch-norm variables keep their constant initial values. The
    same seed gives the same arrays in every process and for every runtime, and no framework
    is needed: a CPU worker without installed weights starts without TensorFlow.
    """
    generator = np.random.Generator(np.random.PCG64(seed))
    constants = {"gamma": 1.0, "beta": 0.0, "moving_mean": 0.0, "moving_variance": 1.0, "bias": 0.0}
    weights: DenseNetWeights = {}
    for layer in densenet121_layers(input_channels, num_classes):
        arrays = {}
        for variable, shape in layer.shapes.items():
            if variable == "kernel":
                receptive_field = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
                fan_in, fan_out = shape[-2] * receptive_field, shape[-1] * receptive_field
                limit = np.sqrt(6.0 / (fan_in + fan_out))
                arrays[variable] = generator.uniform(-limit, limit, size=shape).astype(np.float32)
            else:
                arrays[variable] = np.full(shape, constants[variable], dtype=np.float32)
        weights[layer.name] = arrays
    return weights


def weights_digest(weights: DenseNetWeights, input_channels: int, num_classes: int) -> str:
    """SHA-256 over every array in creation order (dtype, shape and bytes of each).

    The order is that of the Keras model's ``weights``, so the digest of a built model's arrays
    and of the same arrays held here agree.
    """
    digest = hashlib.sha256()
    for layer in densenet121_layers(input_channels, num_classes):
        for variable in layer.shapes:
            array = np.ascontiguousarray(weights[layer.name][variable])
            digest.update(f"{array.dtype.str}{array.shape};".encode())
            digest.update(array.tobytes())
    return digest.hexdigest()
