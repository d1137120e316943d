"""An independent NumPy forward pass of ptsemseg's PSPNet (eval mode), for the importer's tests.

Written from ptsemseg's module code, in float64 and NCHW-free NHWC, sharing nothing with
the Keras network but the key names of the state dict it reads: convolutions with PyTorch's
symmetric padding, batch normalisation with PyTorch's epsilon, a max pool padded with -inf,
ptsemseg's pyramid pooling (kernel = stride = int(side / pool_size)) and bilinear upsampling
with ``align_corners=False``. Also draws random state dicts in the checkpoint's layout.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

STAGES = (
    ("res_block2", 1, 1),
    ("res_block3", 2, 1),
    ("res_block4", 1, 2),
    ("res_block5", 1, 4),
)
EPSILON = 1e-5


def random_state(shapes: dict[str, tuple[int, ...]], seed: int) -> OrderedDict[str, np.ndarray]:
    """Arrays for every key: He-scaled kernels and plausible batch-normalisation statistics."""
    rng = np.random.default_rng(seed)
    state: OrderedDict[str, np.ndarray] = OrderedDict()
    for key, shape in shapes.items():
        if key.endswith("num_batches_tracked"):
            state[key] = np.array(1000, dtype=np.int64)
            continue
        if len(shape) == 4:
            fan_in = shape[1] * shape[2] * shape[3]
            value = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
        elif key.endswith("running_var"):
            value = rng.uniform(0.5, 1.5, shape)
        elif key.endswith(".1.weight"):
            value = rng.uniform(0.5, 1.0, shape)
        else:
            value = rng.normal(0.0, 0.1, shape)
        state[key] = value.astype(np.float32)
    return state


def conv(
    x: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0, dilation: int = 1
) -> np.ndarray:
    """PyTorch's Conv2d on an (n, h, w, c) array with an (out, in, kh, kw) kernel."""
    x = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    out_channels, _, kh, kw = kernel.shape
    height = (x.shape[1] - dilation * (kh - 1) - 1) // stride + 1
    width = (x.shape[2] - dilation * (kw - 1) - 1) // stride + 1
    result = np.zeros((x.shape[0], height, width, out_channels))
    for i in range(kh):
        for j in range(kw):
            patch = x[
                :,
                i * dilation : i * dilation + stride * (height - 1) + 1 : stride,
                j * dilation : j * dilation + stride * (width - 1) + 1 : stride,
                :,
            ]
            result += patch @ kernel[:, :, i, j].astype(np.float64).T
    return result


def conv_unit(
    x: np.ndarray,
    state: dict[str, np.ndarray],
    prefix: str,
    *,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    relu: bool = True,
) -> np.ndarray:
    """conv2DBatchNorm(Relu): ``prefix.0`` the convolution, ``prefix.1`` the batch normalisation."""
    y = conv(x, state[f"{prefix}.0.weight"], stride, padding, dilation)
    gamma, beta, mean, var = (
        state[f"{prefix}.1.{name}"].astype(np.float64)
        for name in ("weight", "bias", "running_mean", "running_var")
    )
    y = (y - mean) / np.sqrt(var + EPSILON) * gamma + beta
    return np.maximum(y, 0.0) if relu else y


def max_pool_3x3_s2_p1(x: np.ndarray) -> np.ndarray:
    x = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=-np.inf)
    height = (x.shape[1] - 3) // 2 + 1
    width = (x.shape[2] - 3) // 2 + 1
    windows = [
        x[:, i : i + 2 * (height - 1) + 1 : 2, j : j + 2 * (width - 1) + 1 : 2, :]
        for i in range(3)
        for j in range(3)
    ]
    return np.max(np.stack(windows), axis=0)


def average_pool(x: np.ndarray, kernel: int) -> np.ndarray:
    """avg_pool2d with kernel = stride, no padding."""
    n, h, w, c = x.shape
    rows, columns = (h - kernel) // kernel + 1, (w - kernel) // kernel + 1
    cropped = x[:, : rows * kernel, : columns * kernel, :]
    return cropped.reshape(n, rows, kernel, columns, kernel, c).mean(axis=(2, 4))


def bilinear(x: np.ndarray, height: int, width: int) -> np.ndarray:
    """F.interpolate(mode="bilinear", align_corners=False), one axis at a time."""

    def along(values: np.ndarray, size: int, axis: int) -> np.ndarray:
        source_size = values.shape[axis]
        position = np.maximum((np.arange(size) + 0.5) * source_size / size - 0.5, 0.0)
        low = np.floor(position).astype(int)
        high = np.minimum(low + 1, source_size - 1)
        weight = position - low
        shape = [1] * values.ndim
        shape[axis] = size
        weight = weight.reshape(shape)
        return np.take(values, low, axis=axis) * (1 - weight) + np.take(values, high, axis=axis) * weight

    return along(along(x, height, 1), width, 2)


def pspnet_forward(
    image: np.ndarray, state: dict[str, np.ndarray], block_config: tuple[int, ...]
) -> np.ndarray:
    """Logits (n, h, w, classes) of ptsemseg's pspnet in eval mode for NHWC ``image``."""
    x = image.astype(np.float64)
    x = conv_unit(x, state, "convbnrelu1_1.cbr_unit", stride=2, padding=1)
    x = conv_unit(x, state, "convbnrelu1_2.cbr_unit", padding=1)
    x = conv_unit(x, state, "convbnrelu1_3.cbr_unit", padding=1)
    x = max_pool_3x3_s2_p1(x)
    for (name, stride, dilation), blocks in zip(STAGES, block_config, strict=True):
        for index in range(blocks):
            prefix = f"{name}.layers.{index}"
            step = stride if index == 0 else 1
            y = conv_unit(x, state, f"{prefix}.cbr1.cbr_unit")
            y = conv_unit(
                y, state, f"{prefix}.cbr2.cbr_unit", stride=step, padding=dilation, dilation=dilation
            )
            y = conv_unit(y, state, f"{prefix}.cb3.cb_unit", relu=False)
            shortcut = (
                conv_unit(x, state, f"{prefix}.cb4.cb_unit", stride=step, relu=False) if index == 0 else x
            )
            x = np.maximum(y + shortcut, 0.0)
    side = x.shape[1]
    paths = [x]
    for index, pool_size in enumerate((6, 3, 2, 1)):
        pooled = average_pool(x, int(side / pool_size))
        path = conv_unit(pooled, state, f"pyramid_pooling.path_module_list.{index}.cbr_unit")
        paths.append(bilinear(path, side, side))
    x = np.concatenate(paths, axis=-1)
    x = conv_unit(x, state, "cbr_final.cbr_unit", padding=1)
    x = conv(x, state["classification.weight"]) + state["classification.bias"].astype(np.float64)
    return bilinear(x, image.shape[1], image.shape[2])
