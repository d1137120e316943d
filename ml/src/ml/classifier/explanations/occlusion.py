"""Occlusion sensitivity (Zeiler and Fergus, 2014): how much the finding's probability drops
when a square window of the input is removed (blurred, as ``ml.classifier.explanations.faithfulness``
removes pixels), the window sliding by ``stride``. Forward passes only, on the engine's runtime.
"""

from __future__ import annotations

import numpy as np

from ml.classifier.explanations.faithfulness import FORWARD_BATCH, LabelProbability
from ml.classifier.explanations.settings import OcclusionSettings


def window_starts(size: int, window: int, stride: int) -> list[int]:
    """Window positions along one axis; the last one ends at the edge, so every pixel is covered."""
    starts = list(range(0, size - window + 1, stride))
    if starts[-1] != size - window:
        starts.append(size - window)
    return starts


def occlusion(
    probability: LabelProbability, image: np.ndarray, removed: np.ndarray, settings: OcclusionSettings
) -> np.ndarray:
    """The (H, W) mean probability drop over the windows covering each pixel.

    Positive where hiding the pixel lowers the finding's probability (evidence for it),
    negative where it raises it.
    """
    height, width = image.shape[:2]
    window = settings.window
    positions = [
        (top, left)
        for top in window_starts(height, window, settings.stride)
        for left in window_starts(width, window, settings.stride)
    ]
    unoccluded = float(probability(image[np.newaxis])[0])
    drops: list[float] = []
    # A batch of occluded copies at a time: all of them at once would hold hundreds of inputs.
    for start in range(0, len(positions), FORWARD_BATCH):
        batch = positions[start : start + FORWARD_BATCH]
        occluded = np.repeat(image[np.newaxis], len(batch), axis=0)
        for index, (top, left) in enumerate(batch):
            window_rows, window_columns = slice(top, top + window), slice(left, left + window)
            occluded[index, window_rows, window_columns] = removed[window_rows, window_columns]
        drops.extend(unoccluded - probability(occluded))
    total = np.zeros((height, width))
    covered = np.zeros((height, width))
    for drop, (top, left) in zip(drops, positions, strict=True):
        total[top : top + window, left : left + window] += drop
        covered[top : top + window, left : left + window] += 1.0
    return total / covered
