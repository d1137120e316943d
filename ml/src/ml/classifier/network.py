"""The network: DenseNet121 with a global-average-pool and dense multi-label head.

The head is deliberately linear after the pool: the gradient of a class logit with
respect to the last feature map is then that class's dense weights spread over the map,
which is what lets ``ml.classifier.explanations.gradcam`` explain every finding from one forward pass.
"""

from __future__ import annotations

import keras
import numpy as np

from ml.classifier.architecture import DenseNetWeights, check_weights

INPUT_LAYER = "radiograph"
# The backbone's final BatchNorm + ReLU output (7 x 7 x 1024 at 224 pixels). The name is
# the one keras.applications gives it, kept so the graph matches the stock DenseNet121.
FEATURE_MAP_LAYER = "relu"
POOL_LAYER = "findings_pool"
LOGITS_LAYER = "findings_logits"
PROBABILITIES_LAYER = "findings_probabilities"


def build_densenet121(num_classes: int, input_channels: int = 1, input_size: int = 224) -> keras.Model:
    """A DenseNet121 multi-label classifier returning one sigmoid probability per class.

    The backbone's weights are freshly initialised (``weights=None``); nothing is downloaded.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, not {num_classes!r}.")
    if input_channels not in (1, 3) or isinstance(input_channels, bool):
        raise ValueError(f"input_channels must be 1 or 3, not {input_channels!r}.")
    if isinstance(input_size, bool) or not isinstance(input_size, int) or input_size < 32:
        raise ValueError(f"input_size must be an integer of at least 32, not {input_size!r}.")

    inputs = keras.Input(shape=(input_size, input_size, input_channels), name=INPUT_LAYER)
    # Passing our input tensor (rather than nesting the application as one layer) keeps the
    # backbone's layers in this model's own graph, so the feature map is reachable by name.
    backbone = keras.applications.DenseNet121(include_top=False, weights=None, input_tensor=inputs)
    pooled = keras.layers.GlobalAveragePooling2D(name=POOL_LAYER)(backbone.output)
    logits = keras.layers.Dense(num_classes, name=LOGITS_LAYER)(pooled)
    probabilities = keras.layers.Activation("sigmoid", name=PROBABILITIES_LAYER)(logits)
    return keras.Model(inputs=inputs, outputs=probabilities, name="densenet121_multilabel")


def feature_map_model(model: keras.Model) -> keras.Model:
    """A model sharing ``model``'s layers that returns (last feature map, logits) in one pass."""
    try:
        feature_map = model.get_layer(FEATURE_MAP_LAYER).output
        logits = model.get_layer(LOGITS_LAYER).output
    except ValueError as error:
        raise ValueError(
            f"The model has no '{FEATURE_MAP_LAYER}' or '{LOGITS_LAYER}' layer; "
            "build it with build_densenet121."
        ) from error
    return keras.Model(inputs=model.input, outputs=[feature_map, logits], name=f"{model.name}_explainer")


def logits_kernel(model: keras.Model) -> np.ndarray:
    """The dense head's kernel, shape (feature channels, classes): the Grad-CAM weights."""
    return np.asarray(model.get_layer(LOGITS_LAYER).kernel.numpy(), dtype=np.float32)


def densenet_weights(model: keras.Model) -> DenseNetWeights:
    """The model's arrays in the framework-neutral form of ``ml.classifier.architecture``."""
    return {
        layer.name: {
            variable.name: np.array(variable.numpy(), dtype=np.float32) for variable in layer.weights
        }
        for layer in model.layers
        if layer.weights
    }


def assign_densenet_weights(model: keras.Model, weights: DenseNetWeights) -> None:
    """Set every array of ``model`` from ``weights``, checked first so nothing is half assigned."""
    input_channels = int(model.input_shape[-1])
    num_classes = int(model.output_shape[-1])
    checked = check_weights(weights, input_channels, num_classes, source="The weights")
    for name, arrays in checked.items():
        layer = model.get_layer(name)
        for variable in layer.weights:
            variable.assign(arrays[variable.name])
