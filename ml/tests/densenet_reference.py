"""An independent NumPy DenseNet121, computed as PyTorch defines it, for checking the engine.

It reads torchvision's parameter names and layouts (NCHW activations, (out, in, kh, kw)
kernels, batch norm with epsilon 1e-5, max pooling padded with -inf) and shares no code
with the package. Everything is computed in float64, so its outputs are the exact values
the float32 runtimes approximate. It also makes realistic random DenseNet121 weights:
random kernels whose batch-norm statistics are those of real radiographs, as a trained
network's are, so activations stay in a natural range and the outputs are not saturated.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import numpy as np

BLOCKS = (6, 12, 24, 16)
GROWTH = 32
TORCH_EPSILON = 1e-5


def conv2d(x: np.ndarray, weight: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """PyTorch's conv2d (no bias) of one image x (C, H, W) with weight (O, C, k, k)."""
    out_channels, in_channels, size, _ = weight.shape
    if padding:
        x = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    if size == 1 and stride == 1:
        height, width = x.shape[1:]
        return (weight.reshape(out_channels, in_channels) @ x.reshape(in_channels, -1)).reshape(
            out_channels, height, width
        )
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    out_height, out_width = windows.shape[1:3]
    columns = windows.transpose(0, 3, 4, 1, 2).reshape(in_channels * size * size, out_height * out_width)
    return (weight.reshape(out_channels, -1) @ columns).reshape(out_channels, out_height, out_width)


def max_pool(x: np.ndarray, size: int = 3, stride: int = 2, padding: int = 1) -> np.ndarray:
    padded = np.pad(x, ((0, 0), (padding, padding), (padding, padding)), constant_values=-np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (size, size), axis=(1, 2))[
        :, ::stride, ::stride
    ]
    return windows.max(axis=(3, 4))


def avg_pool(x: np.ndarray) -> np.ndarray:
    channels, height, width = x.shape
    return (
        x[:, : height // 2 * 2, : width // 2 * 2]
        .reshape(channels, height // 2, 2, width // 2, 2)
        .mean(axis=(2, 4))
    )


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def forward(
    state: dict[str, np.ndarray],
    image_nchw: np.ndarray,
    on_batch_norm: Callable[[str, np.ndarray], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(last feature map (C, h, w) after its ReLU, logits, probabilities) for one image.

    ``image_nchw`` has shape (1, channels, size, size). ``on_batch_norm(prefix, x)`` is
    called with each batch norm's input before it is applied (used to calibrate weights).
    """
    p = {key: np.asarray(value, dtype=np.float64) for key, value in state.items()}

    def batch_norm(prefix: str, x: np.ndarray) -> np.ndarray:
        if on_batch_norm is not None:
            on_batch_norm(prefix, x)
            p[f"{prefix}.running_mean"] = np.asarray(state[f"{prefix}.running_mean"], dtype=np.float64)
            p[f"{prefix}.running_var"] = np.asarray(state[f"{prefix}.running_var"], dtype=np.float64)
        scale = p[f"{prefix}.weight"] / np.sqrt(p[f"{prefix}.running_var"] + TORCH_EPSILON)
        shift = p[f"{prefix}.bias"] - p[f"{prefix}.running_mean"] * scale
        return x * scale[:, None, None] + shift[:, None, None]

    x = np.asarray(image_nchw, dtype=np.float64)[0]
    x = conv2d(x, p["features.conv0.weight"], stride=2, padding=3)
    x = max_pool(relu(batch_norm("features.norm0", x)))
    for block, layers in enumerate(BLOCKS, start=1):
        for layer in range(1, layers + 1):
            prefix = f"features.denseblock{block}.denselayer{layer}"
            y = conv2d(relu(batch_norm(f"{prefix}.norm1", x)), p[f"{prefix}.conv1.weight"])
            y = conv2d(relu(batch_norm(f"{prefix}.norm2", y)), p[f"{prefix}.conv2.weight"], padding=1)
            x = np.concatenate([x, y], axis=0)
        if block < len(BLOCKS):
            prefix = f"features.transition{block}"
            x = avg_pool(conv2d(relu(batch_norm(f"{prefix}.norm", x)), p[f"{prefix}.conv.weight"]))
    features = relu(batch_norm("features.norm5", x))
    logits = p["classifier.weight"] @ features.mean(axis=(1, 2)) + p["classifier.bias"]
    return features, logits, 1.0 / (1.0 + np.exp(-logits))


def random_state(
    seed: int, input_channels: int, num_classes: int, calibration_image_nchw: np.ndarray
) -> OrderedDict[str, np.ndarray]:
    """Random DenseNet121 parameters (torchvision names) calibrated on a real radiograph.

    Kernels are He-normal; each batch norm's running statistics are the mean and variance
    of its input on the calibration image, jittered, and its affine parameters are drawn
    around (1, 0). The head is scaled so that on the calibration image the logits spread
    over a few units around zero, where probabilities are most sensitive to errors.
    """
    rng = np.random.default_rng(seed)
    state: OrderedDict[str, np.ndarray] = OrderedDict()

    def conv(name: str, out_channels: int, in_channels: int, size: int) -> None:
        fan_in = in_channels * size * size
        state[name] = rng.normal(0.0, np.sqrt(2.0 / fan_in), (out_channels, in_channels, size, size))

    def norm(prefix: str, channels: int) -> None:
        state[f"{prefix}.weight"] = rng.uniform(0.7, 1.3, channels)
        state[f"{prefix}.bias"] = rng.normal(0.0, 0.2, channels)
        state[f"{prefix}.running_mean"] = np.zeros(channels)
        state[f"{prefix}.running_var"] = np.ones(channels)
        state[f"{prefix}.num_batches_tracked"] = np.array(1000, dtype=np.int64)

    conv("features.conv0.weight", 64, input_channels, 7)
    norm("features.norm0", 64)
    channels = 64
    for block, layers in enumerate(BLOCKS, start=1):
        for layer in range(1, layers + 1):
            prefix = f"features.denseblock{block}.denselayer{layer}"
            norm(f"{prefix}.norm1", channels)
            conv(f"{prefix}.conv1.weight", 4 * GROWTH, channels, 1)
            norm(f"{prefix}.norm2", 4 * GROWTH)
            conv(f"{prefix}.conv2.weight", GROWTH, 4 * GROWTH, 3)
            channels += GROWTH
        if block < len(BLOCKS):
            prefix = f"features.transition{block}"
            norm(f"{prefix}.norm", channels)
            conv(f"{prefix}.conv.weight", channels // 2, channels, 1)
            channels //= 2
    norm("features.norm5", channels)
    state["classifier.weight"] = rng.normal(0.0, 1.0, (num_classes, channels))
    state["classifier.bias"] = np.zeros(num_classes)

    def calibrate(prefix: str, x: np.ndarray) -> None:
        mean = x.mean(axis=(1, 2))
        variance = x.var(axis=(1, 2)) + 1e-3
        state[f"{prefix}.running_mean"] = mean + rng.normal(0.0, 0.05, mean.shape) * np.sqrt(variance)
        state[f"{prefix}.running_var"] = variance * rng.uniform(0.8, 1.25, variance.shape)

    features, _, _ = forward(state, calibration_image_nchw, calibrate)
    pooled = features.mean(axis=(1, 2))
    logits = state["classifier.weight"] @ pooled
    # Centre the logits and scale them to a standard deviation of about 2 across classes.
    spread = np.std(logits) or 1.0
    state["classifier.weight"] *= 2.0 / spread
    state["classifier.bias"] = -(state["classifier.weight"] @ pooled) + rng.normal(0.0, 1.0, num_classes)
    return OrderedDict(
        (key, value.astype(np.int64) if value.dtype == np.int64 else value.astype(np.float32))
        for key, value in state.items()
    )
