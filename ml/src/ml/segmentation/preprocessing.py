"""A radiograph (or a training image) as the segmentation network's input, as its card says.

The whole image is stretched to the input square (no crop: every pixel of the radiograph
gets a label, and masks map straight back), grey levels in [0, 1] go into three equal
channels, then each channel is standardised with the card's mean and standard deviation.
OpenCV resizes: area averaging when shrinking (an antialiased reduction), bilinear when
enlarging. Nothing here imports TensorFlow.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np


def resize_grey(pixels: np.ndarray, side: int) -> np.ndarray:
    """A (height, width) float image resized to (side, side) float32."""
    shrinking = side < max(pixels.shape)
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(
        np.ascontiguousarray(pixels, dtype=np.float32), (side, side), interpolation=interpolation
    )


def network_input(unit_grey: np.ndarray, preprocessing: dict[str, Any]) -> np.ndarray:
    """A (side, side) image in [0, 1] as the network's (side, side, 3) float32 input."""
    mean = np.asarray(preprocessing["mean"], dtype=np.float32)
    std = np.asarray(preprocessing["std"], dtype=np.float32)
    grey = np.clip(unit_grey, 0.0, 1.0)[:, :, np.newaxis]
    return ((np.repeat(grey, 3, axis=-1) - mean) / std).astype(np.float32)
