"""From Hounsfield units to the network's input: the lung window, then each slice resized.

The window maps ``centre - width / 2`` to 0 and ``centre + width / 2`` to 1, linearly, and
clips outside; the default (centre -600 HU, width 1500 HU) shows aerated lung, ground-glass
opacities and consolidation apart while bone and air saturate. The card records the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from ml.errors import WeightsError

DEFAULT_CENTRE = -600.0
DEFAULT_WIDTH = 1500.0


@dataclass(frozen=True)
class LungWindow:
    """A display window in Hounsfield units."""

    centre: float = DEFAULT_CENTRE
    width: float = DEFAULT_WIDTH

    def to_dict(self) -> dict[str, float]:
        return {"centre": self.centre, "width": self.width}

    @classmethod
    def from_dict(cls, data: Any) -> LungWindow:
        if not isinstance(data, dict) or set(data) != {"centre", "width"}:
            raise WeightsError("The card's window must be an object with exactly 'centre' and 'width'.")
        values = [data["centre"], data["width"]]
        if not all(isinstance(value, int | float) and not isinstance(value, bool) for value in values):
            raise WeightsError("The card's window centre and width must be numbers.")
        if not values[1] > 0:
            raise WeightsError("The card's window width must be positive.")
        return cls(float(values[0]), float(values[1]))


def apply_window(hounsfield: np.ndarray, window: LungWindow) -> np.ndarray:
    """Hounsfield units -> [0, 1] float32, clipped outside the window."""
    low = window.centre - window.width / 2.0
    scaled = (np.asarray(hounsfield, dtype=np.float32) - np.float32(low)) / np.float32(window.width)
    return np.clip(scaled, 0.0, 1.0)


def network_slices(hounsfield: np.ndarray, window: LungWindow, size: int) -> np.ndarray:
    """(slices, rows, columns) HU -> (slices, size, size, 1) float32 in [0, 1], windowed then resized.

    Shrinking averages pixels (OpenCV's area interpolation, no aliasing); enlarging is
    bilinear. The result is rounded to 256 grey levels, as a display shows the window,
    so that training can keep its slices as 8-bit images and see exactly what inference sees.
    """
    windowed = apply_window(hounsfield, window)
    slices, rows, columns = windowed.shape
    if (rows, columns) != (size, size):
        interpolation = cv2.INTER_AREA if rows >= size and columns >= size else cv2.INTER_LINEAR
        resized = np.empty((slices, size, size), dtype=np.float32)
        for index in range(slices):
            resized[index] = cv2.resize(windowed[index], (size, size), interpolation=interpolation)
        windowed = resized
    return (np.round(windowed * np.float32(255.0)) / np.float32(255.0))[..., None]
