"""Read a Keras 3 ``model.weights.h5`` of ``ml.classifier.network.build_densenet121`` without Keras.

The OpenVINO runtime builds its network from these arrays, so a worker never has to
import TensorFlow. Keras 3 stores a functional model's weights under generic names, one
group per layer with weights, named by class and creation order (``layers/conv2d``,
``layers/conv2d_1``, ..., ``layers/batch_normalization_3``, ``layers/dense``), each with
``vars/0``, ``vars/1``, ... in the layer's variable order. ``ml.classifier.architecture`` lists the
layers in that order, and a test checks this reader against Keras's own loader.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np

from ml.classifier.architecture import (
    BatchNorm,
    Conv,
    Dense,
    DenseNetWeights,
    check_weights,
    densenet121_layers,
)
from ml.errors import WeightsError

_KERAS_CLASS_NAMES = {Conv: "conv2d", BatchNorm: "batch_normalization", Dense: "dense"}


def read_densenet_weights(
    path: str | os.PathLike[str], input_channels: int, num_classes: int
) -> DenseNetWeights:
    """The DenseNet121 arrays of a Keras weights file; WeightsError if they do not fit exactly."""
    path = Path(path)
    counters: dict[str, int] = {}
    weights: dict[str, dict[str, np.ndarray]] = {}
    try:
        with h5py.File(path, "r") as handle:
            layers = handle.get("layers")
            if not isinstance(layers, h5py.Group):
                raise WeightsError(f"{path} is an HDF5 file but not Keras 3 model weights.")
            used: set[str] = set()
            for layer in densenet121_layers(input_channels, num_classes):
                generic = _KERAS_CLASS_NAMES[type(layer)]
                index = counters.get(generic, 0)
                counters[generic] = index + 1
                group_name = generic if index == 0 else f"{generic}_{index}"
                used.add(group_name)
                variables = layers.get(f"{group_name}/vars")
                if not isinstance(variables, h5py.Group):
                    raise WeightsError(f"{path} lacks the weights of {layer.name} (layers/{group_name}).")
                names = list(layer.shapes)
                if len(variables) != len(names):
                    raise WeightsError(
                        f"{path}: layers/{group_name} ({layer.name}) holds {len(variables)} arrays, "
                        f"not {len(names)}."
                    )
                weights[layer.name] = {
                    name: np.asarray(variables[str(position)]) for position, name in enumerate(names)
                }
            surplus = sorted(name for name in _layers_with_arrays(layers) if name not in used)
            if surplus:
                raise WeightsError(
                    f"{path} holds weights for layers DenseNet121 lacks ({', '.join(surplus[:3])}): "
                    "it was saved from a different architecture."
                )
    except OSError as error:
        raise WeightsError(f"{path} is not a readable Keras weights file: {error}.") from error
    except KeyError as error:
        raise WeightsError(f"{path} is missing an array: {error}.") from error
    return check_weights(weights, input_channels, num_classes, source=str(path))


def _layers_with_arrays(layers: h5py.Group) -> list[str]:
    names = []
    for name, group in layers.items():
        variables = group.get("vars") if isinstance(group, h5py.Group) else None
        if isinstance(variables, h5py.Group) and len(variables) > 0:
            names.append(name)
    return names
