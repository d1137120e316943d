"""A radiograph (or a training image) as the segmentation network's input, as its card says.

The whole image is stretched to the input square (no crop: every pixel of the radiograph
gets a label, and masks map straight back), grey levels in [0, 1] go into three equal
channels, then each channel is standardised with the card's mean and standard deviation.

The card's ``preprocessing.resize`` names the resampling, so that an imported network sees
what its own project fed it:

- ``area`` (our U-Net's, and a card's without the field): OpenCV, area averaging when
  shrinking (an antialiased reduction), bilinear when enlarging.
- ``skimage-linear-antialias`` (the ChestX-Det PSPNet's): torchxrayvision's
  ``XRayResizer``, which calls ``skimage.transform.resize(img, (1, S, S), mode="constant",
  preserve_range=True)`` on the image scaled to [-1024, 1024]: a Gaussian blur of sigma
  (factor - 1) / 2 when shrinking, then bilinear sampling, both with zeros beyond the border
  (mid-grey in [0, 1]: hence the scaling to its range and back). The model's own forward
  then resizes bilinearly to 512 again, which at 512 changes nothing.

Nothing here imports TensorFlow.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

AREA = "area"
SKIMAGE_LINEAR_ANTIALIAS = "skimage-linear-antialias"
RESIZES = (AREA, SKIMAGE_LINEAR_ANTIALIAS)
# torchxrayvision's grey-level range: ``xrv.datasets.normalize`` maps [0, 1] onto it.
_XRV_RANGE = 1024.0


def resize_grey(pixels: np.ndarray, side: int, resize: str = AREA) -> np.ndarray:
    """A (height, width) image in [0, 1] resized to (side, side) float32 by the card's ``resize``."""
    if resize == SKIMAGE_LINEAR_ANTIALIAS:
        return _skimage_resize(pixels, side)
    if resize != AREA:
        raise ValueError(f"resize must be one of {', '.join(RESIZES)}, not {resize!r}.")
    shrinking = side < max(pixels.shape)
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(
        np.ascontiguousarray(pixels, dtype=np.float32), (side, side), interpolation=interpolation
    )


def card_resize(preprocessing: dict[str, Any]) -> str:
    """The resampling a card's preprocessing names (``area`` for cards written before it named one)."""
    return str(preprocessing.get("resize", AREA))


def network_input(unit_grey: np.ndarray, preprocessing: dict[str, Any]) -> np.ndarray:
    """A (side, side) image in [0, 1] as the network's (side, side, 3) float32 input."""
    mean = np.asarray(preprocessing["mean"], dtype=np.float32)
    std = np.asarray(preprocessing["std"], dtype=np.float32)
    grey = np.clip(unit_grey, 0.0, 1.0)[:, :, np.newaxis]
    return ((np.repeat(grey, 3, axis=-1) - mean) / std).astype(np.float32)


def _skimage_resize(pixels: np.ndarray, side: int) -> np.ndarray:
    # Imported here: only imported networks' cards ask for it, and it costs the web process
    # a noticeable import otherwise.
    import skimage.transform

    xrv_grey = (2.0 * np.asarray(pixels, dtype=np.float32) - 1.0) * _XRV_RANGE
    resized = skimage.transform.resize(
        xrv_grey[np.newaxis], (1, side, side), mode="constant", preserve_range=True
    ).astype(np.float32)[0]
    return (resized + _XRV_RANGE) / (2.0 * _XRV_RANGE)
