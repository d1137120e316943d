"""The per-slice curve as a small PNG strip for under the viewer (OpenCV, no plotting library).

The strip is dark grey; the slices' probabilities are a line from the first slice (left) to
the last (right), probability 0 at the bottom and 1 at the top, orange where it reaches
the threshold (drawn as a thin grey line) and light blue below it.
"""

from __future__ import annotations

import cv2
import numpy as np

from ml.ct.analyser import CTResult
from ml.images.rendering import encode_png

BACKGROUND = (40, 40, 40)
THRESHOLD_COLOUR = (128, 128, 128)
# OpenCV orders colours blue, green, red.
BELOW_COLOUR = (230, 200, 120)
ABOVE_COLOUR = (0, 140, 255)
MARGIN = 2


def ct_strip_png(result: CTResult, width: int = 512, height: int = 48) -> bytes:
    """A ``width`` x ``height`` PNG of ``result``'s slice probabilities against its threshold."""
    if width < 8 or height < 8:
        raise ValueError(f"The strip must be at least 8x8 pixels, not {width}x{height}.")
    probabilities = np.clip(np.asarray(result.slice_probabilities, dtype=np.float64), 0.0, 1.0)
    canvas = np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
    span = height - 1 - 2 * MARGIN

    def row(value: float) -> int:
        return round(height - 1 - MARGIN - value * span)

    threshold_row = row(min(max(result.threshold, 0.0), 1.0))
    cv2.line(canvas, (0, threshold_row), (width - 1, threshold_row), THRESHOLD_COLOUR, 1)
    count = probabilities.size
    if count == 1:
        columns = np.array([width // 2])
    else:
        columns = np.round(np.linspace(MARGIN, width - 1 - MARGIN, count)).astype(np.int32)
    points = np.stack([columns, [row(value) for value in probabilities]], axis=1).astype(np.int32)
    curve = np.zeros((height, width), dtype=np.uint8)
    if count == 1:
        cv2.circle(curve, (int(points[0, 0]), int(points[0, 1])), 2, 255, -1)
    else:
        cv2.polylines(curve, [points.reshape(-1, 1, 2)], isClosed=False, color=255, thickness=1)
    drawn = curve > 0
    # Pixels of the curve at or above the threshold's height are the slices that reach it.
    above = drawn & (np.arange(height)[:, None] <= threshold_row)
    canvas[drawn & ~above] = BELOW_COLOUR
    canvas[above] = ABOVE_COLOUR
    return encode_png(canvas)
