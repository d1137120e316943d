"""Grad-CAM for every finding at once, from the feature map of a single forward pass.

With a global-average-pool + dense head, logit_c = b_c + sum_k w_kc * mean_ij A_ijk, so
the gradient of logit_c with respect to A_ijk is w_kc / (H * W) everywhere. Grad-CAM's
channel weights (the spatial mean of that gradient) are therefore w_kc / (H * W), and the
class map ReLU(sum_k w_kc A_k) / (H * W) needs no backward pass. The constant factor
vanishes in the per-class normalisation to [0, 1]. Everything here is NumPy.
"""

from __future__ import annotations

import numpy as np

from ml.images.preprocessing import CropBox


def class_activation_maps(feature_map: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Normalised Grad-CAM maps for all classes.

    ``feature_map`` has shape (..., H, W, K) and ``kernel`` (K, C); the result has shape
    (..., C, H, W), float32, each map scaled so its maximum is 1 (an all-zero map, i.e. a
    class with no positive evidence anywhere, stays zero).
    """
    feature_map = np.asarray(feature_map, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    if feature_map.ndim < 3 or kernel.ndim != 2 or feature_map.shape[-1] != kernel.shape[0]:
        raise ValueError(
            f"Expected a feature map (..., H, W, K) and a kernel (K, C), got {feature_map.shape} "
            f"and {kernel.shape}."
        )
    maps = np.maximum(np.einsum("...hwk,kc->...chw", feature_map, kernel), 0.0)
    return normalise_maps(maps)


def normalise_maps(maps: np.ndarray) -> np.ndarray:
    """Scale each map (the last two axes) so its maximum is 1; all-zero maps stay zero."""
    maps = np.asarray(maps, dtype=np.float32)
    peaks = maps.max(axis=(-2, -1), keepdims=True)
    safe_peaks = np.where(peaks > 0.0, peaks, 1.0)
    return np.where(peaks > 0.0, maps / safe_peaks, 0.0).astype(np.float32)


def maps_to_radiograph_frame(maps: np.ndarray, crop: CropBox, width: int, height: int) -> np.ndarray:
    """Upsample low-resolution maps onto ``crop`` and place them in a ``height`` x ``width`` frame.

    ``maps`` has shape (h, w) or (C, h, w); the result has the same leading shape with the
    last two axes (height, width), float32 in [0, 1] and zero outside the crop, which is the
    part of the radiograph the network never saw.
    """
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim not in (2, 3):
        raise ValueError(f"Expected maps of shape (h, w) or (C, h, w), got {maps.shape}.")
    if crop.left < 0 or crop.top < 0 or crop.right > width or crop.bottom > height:
        raise ValueError(f"The crop {crop} does not fit a {width}x{height} radiograph.")
    rows = linear_interpolation_matrix(maps.shape[-2], crop.size)
    columns = linear_interpolation_matrix(maps.shape[-1], crop.size)
    # Bilinear upsampling is separable: one matrix product per axis, for all classes at once.
    # The second product runs as a single 2-D BLAS call, which is several times faster than
    # NumPy's stacked matmul at these shapes.
    along_rows = rows @ maps
    flat = along_rows.reshape(-1, maps.shape[-1]) @ columns.T
    upsampled = flat.reshape(*along_rows.shape[:-1], crop.size)
    # Each output pixel is a convex combination of map values; clipping only removes rounding.
    np.clip(upsampled, 0.0, 1.0, out=upsampled)
    if (crop.size, crop.size) == (height, width):
        return upsampled
    frame = np.zeros((*maps.shape[:-2], height, width), dtype=np.float32)
    frame[..., crop.top : crop.bottom, crop.left : crop.right] = upsampled
    return frame


def linear_interpolation_matrix(source: int, target: int) -> np.ndarray:
    """The (target, source) matrix of 1-D linear interpolation with half-pixel centres.

    This is the sampling of ``tf.image.resize(..., "bilinear")`` and of Pillow's bilinear
    upsampling: output pixel i samples the source at (i + 0.5) * source / target - 0.5,
    clamped to the outermost source pixel centres.
    """
    if source < 1 or target < 1:
        raise ValueError(f"Interpolation sizes must be positive, not {source} -> {target}.")
    positions = np.clip((np.arange(target) + 0.5) * (source / target) - 0.5, 0.0, source - 1)
    lower = np.floor(positions).astype(np.int64)
    upper = np.minimum(lower + 1, source - 1)
    fraction = (positions - lower).astype(np.float32)
    matrix = np.zeros((target, source), dtype=np.float32)
    matrix[np.arange(target), lower] += 1.0 - fraction
    matrix[np.arange(target), upper] += fraction
    return matrix
