"""Training augmentation: one random geometric transform for an image and its masks, intensity for the image.

The transform is a small rotation, scaling and shift about the centre, never a flip: a
left/right flip would swap the anatomy (the left lung would sit where the right one does,
under the same name). Masks follow the image through the same warp; brightness, contrast
and gamma change the image only.
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_ROTATION_DEGREES = 10.0
SCALE_RANGE = (0.9, 1.1)
MAX_SHIFT = 0.05  # of the side
CONTRAST_RANGE = (0.8, 1.2)
MAX_BRIGHTNESS = 0.1
GAMMA_RANGE = (0.8, 1.25)


def augment(image: np.ndarray, masks: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A (side, side) image in [0, 1] and its (side, side, k) 0/1 masks, transformed alike."""
    side = image.shape[0]
    angle = rng.uniform(-MAX_ROTATION_DEGREES, MAX_ROTATION_DEGREES)
    scale = rng.uniform(*SCALE_RANGE)
    matrix = cv2.getRotationMatrix2D(((side - 1) / 2.0, (side - 1) / 2.0), angle, scale)
    matrix[:, 2] += rng.uniform(-MAX_SHIFT, MAX_SHIFT, size=2) * side
    warped = cv2.warpAffine(image, matrix, (side, side), flags=cv2.INTER_LINEAR, borderValue=0.0)
    warped_masks = np.stack(
        [
            cv2.warpAffine(masks[:, :, k].astype(np.float32), matrix, (side, side), flags=cv2.INTER_LINEAR)
            >= 0.5
            for k in range(masks.shape[2])
        ],
        axis=-1,
    ).astype(np.uint8)
    contrast = rng.uniform(*CONTRAST_RANGE)
    brightness = rng.uniform(-MAX_BRIGHTNESS, MAX_BRIGHTNESS)
    gamma = rng.uniform(*GAMMA_RANGE)
    adjusted = np.clip((warped - 0.5) * contrast + 0.5 + brightness, 0.0, 1.0) ** gamma
    return adjusted.astype(np.float32), warped_masks
