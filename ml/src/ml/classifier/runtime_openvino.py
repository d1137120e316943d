"""DenseNet121 on OpenVINO's CPU runtime, built straight from the network's arrays.

The graph is written here op by op (rather than converted from the Keras model) so that a
worker needs neither TensorFlow nor a conversion step: it reads ``model.weights.h5`` with
h5py and compiles in well under a second. It computes what ``ml.classifier.network.build_densenet121``
computes, in float32 unless asked otherwise; the tests hold it to the Keras reference.

Batch norm is folded into one multiply and add per channel; OpenVINO fuses those into
the neighbouring convolutions. The input is NHWC like the Keras model's, and the outputs
are the last feature map (NHWC, for Grad-CAM) and the sigmoid probabilities.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import openvino as ov
import openvino.opset13 as ops

from ml.classifier.architecture import HEAD_LAYER, KERAS_BN_EPSILON, DenseNetWeights, iter_blocks
from ml.engine.compiled import cpu_compile_config
from ml.errors import WeightsError

# OpenVINO picks bf16 by itself on CPUs that have it; "f32" keeps full precision.
PRECISIONS = ("f32", "bf16")
FEATURE_MAP_OUTPUT = "feature_map"
PROBABILITIES_OUTPUT = "probabilities"


def build_model(
    weights: DenseNetWeights,
    input_channels: int,
    input_size: int,
    *,
    with_feature_map: bool = True,
) -> ov.Model:
    """The OpenVINO graph of DenseNet121 with these weights, for a batch of one."""
    images = ops.parameter([1, input_size, input_size, input_channels], np.float32, name="radiograph")
    x = ops.transpose(images, ops.constant(np.array([0, 3, 1, 2], dtype=np.int64)))

    x = _conv(x, weights, "conv1_conv", stride=2, padding=3)
    x = ops.relu(_batch_norm(x, weights["conv1_bn"]))
    # Keras zero-pads before this pool; after a ReLU, zeros never win a max, so OpenVINO's
    # padding (which never wins either) gives the same result.
    x = ops.max_pool(x, [2, 2], [1, 1], [1, 1], [1, 1], [3, 3]).output(0)
    for _block, prefixes, transition in iter_blocks():
        for prefix in prefixes:
            branch = ops.relu(_batch_norm(x, weights[f"{prefix}_0_bn"]))
            branch = _conv(branch, weights, f"{prefix}_1_conv")
            branch = ops.relu(_batch_norm(branch, weights[f"{prefix}_1_bn"]))
            branch = _conv(branch, weights, f"{prefix}_2_conv", padding=1)
            x = ops.concat([x, branch], axis=1)
        if transition is not None:
            x = ops.relu(_batch_norm(x, weights[f"{transition}_bn"]))
            x = _conv(x, weights, f"{transition}_conv")
            x = ops.avg_pool(x, [2, 2], [0, 0], [0, 0], [2, 2], exclude_pad=True)
    features = ops.relu(_batch_norm(x, weights["bn"]))

    pooled = ops.reduce_mean(features, ops.constant(np.array([2, 3], dtype=np.int64)), keep_dims=False)
    head = weights["findings_logits"]
    head_matmul = ops.matmul(pooled, ops.constant(head["kernel"]), False, False)
    head_matmul.set_friendly_name(HEAD_LAYER)
    logits = ops.add(head_matmul, ops.constant(head["bias"][np.newaxis]))
    probabilities = ops.sigmoid(logits)
    probabilities.output(0).get_tensor().set_names({PROBABILITIES_OUTPUT})
    outputs = [probabilities]
    if with_feature_map:
        feature_map = ops.transpose(features, ops.constant(np.array([0, 2, 3, 1], dtype=np.int64)))
        feature_map.output(0).get_tensor().set_names({FEATURE_MAP_OUTPUT})
        outputs.insert(0, feature_map)
    return ov.Model(outputs, [images], "densenet121_multilabel")


def _conv(x: ov.Node, weights: DenseNetWeights, name: str, *, stride: int = 1, padding: int = 0) -> ov.Node:
    # Keras kernels are (height, width, in, out); OpenVINO wants (out, in, height, width).
    kernel = np.ascontiguousarray(weights[name]["kernel"].transpose(3, 2, 0, 1))
    node = ops.convolution(
        x, ops.constant(kernel), [stride, stride], [padding, padding], [padding, padding], [1, 1]
    )
    # The Keras layer's name, so that quantization can name the layers it leaves in float32.
    node.set_friendly_name(name)
    return node


def _batch_norm(x: ov.Node, arrays: dict[str, np.ndarray]) -> ov.Node:
    # Computed in float64 and rounded once, so the folding adds no error of its own.
    variance = arrays["moving_variance"].astype(np.float64)
    scale = arrays["gamma"].astype(np.float64) / np.sqrt(variance + KERAS_BN_EPSILON)
    shift = arrays["beta"].astype(np.float64) - arrays["moving_mean"].astype(np.float64) * scale
    shape = (1, -1, 1, 1)
    return ops.add(
        ops.multiply(x, ops.constant(scale.astype(np.float32).reshape(shape))),
        ops.constant(shift.astype(np.float32).reshape(shape)),
    )


def read_quantized_model(
    path: str | os.PathLike[str], input_channels: int, input_size: int, with_feature_map: bool = True
) -> ov.Model:
    """A quantized DenseNet121 saved as OpenVINO IR, checked to take and give what the engine expects."""
    path = Path(path)
    try:
        model = ov.Core().read_model(path)
    except RuntimeError as error:
        raise WeightsError(
            f"{path} is not a readable OpenVINO model: {str(error).strip().splitlines()[0]}"
        ) from error
    names = {name for output in model.outputs for name in output.get_names()}
    shape = [1, input_size, input_size, input_channels]
    if (
        len(model.inputs) != 1
        or list(model.input(0).get_partial_shape().to_shape()) != shape
        or not {FEATURE_MAP_OUTPUT, PROBABILITIES_OUTPUT} <= names
    ):
        raise WeightsError(
            f"{path} is not a DenseNet121 for {input_channels}-channel {input_size}-pixel images."
        )
    if with_feature_map:
        return model
    return ov.Model([model.output(PROBABILITIES_OUTPUT)], model.get_parameters(), model.get_friendly_name())


class OpenVINORuntime:
    """A compiled DenseNet121 answering (feature maps, probabilities) for preprocessed images."""

    def __init__(
        self,
        weights: DenseNetWeights,
        input_channels: int,
        input_size: int,
        *,
        threads: int,
        precision: str = "f32",
        with_feature_map: bool = True,
        quantized_model: str | os.PathLike[str] | None = None,
    ) -> None:
        """Compile the network built from ``weights``, or the int8 model ``quantized_model``.

        A quantized model (written by ``ml.classifier.quantization``) replaces the network, not
        the weights: the dense head's kernel still comes from ``weights`` for Grad-CAM.
        """
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}.")
        self.precision = precision
        self._kernel = np.array(weights["findings_logits"]["kernel"], dtype=np.float32)
        if quantized_model is None:
            self.name = f"openvino-{precision}"
            model = build_model(weights, input_channels, input_size, with_feature_map=with_feature_map)
        else:
            self.name = "openvino-int8"
            model = read_quantized_model(quantized_model, input_channels, input_size, with_feature_map)
        # A quantized model's layers left in float32 stay in float32 too.
        self._compiled = ov.Core().compile_model(model, "CPU", cpu_compile_config(threads, precision))
        self._request = self._compiled.create_infer_request()
        # An infer request serves one caller at a time; the embedded mode may call from threads.
        self._lock = threading.Lock()
        self._with_feature_map = with_feature_map

    @property
    def head_kernel(self) -> np.ndarray:
        """The dense head's kernel (feature channels, classes): the Grad-CAM weights."""
        return self._kernel

    def run(self, images: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """(N, h, w, 1024) feature maps (None without them) and (N, classes) probabilities."""
        maps, probabilities = [], []
        with self._lock:
            for image in images:
                self._request.infer({0: np.ascontiguousarray(image[np.newaxis])})
                probabilities.append(self._request.get_tensor(PROBABILITIES_OUTPUT).data.copy())
                if self._with_feature_map:
                    maps.append(self._request.get_tensor(FEATURE_MAP_OUTPUT).data.copy())
        feature_maps = np.concatenate(maps) if self._with_feature_map else None
        return feature_maps, np.concatenate(probabilities).astype(np.float32)
