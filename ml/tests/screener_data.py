"""Planted-signal data sets for the screener tests: noise images, abnormal ones with a bright blob."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def write_blob_folder(
    root: Path, *, normal: int, abnormal: int, size: int = 64, seed: int = 0, shuffle_labels: bool = False
) -> Path:
    """PNG noise images named in the tuberculosis layout: ``IMG_####_0.png`` normal, ``_1`` abnormal.

    An abnormal image carries a bright Gaussian blob somewhere away from the edges; with
    ``shuffle_labels`` the names' labels are permuted, so they say nothing about the blobs.
    """
    rng = np.random.default_rng(seed)
    labels = np.array([0] * normal + [1] * abnormal)
    names = rng.permutation(labels) if shuffle_labels else labels
    root.mkdir(parents=True, exist_ok=True)
    grid = np.mgrid[0:size, 0:size].astype(np.float32)
    for index, (has_blob, named) in enumerate(zip(labels, names, strict=True)):
        image = rng.normal(0.45, 0.12, size=(size, size)).astype(np.float32)
        if has_blob:
            centre = rng.uniform(0.25 * size, 0.75 * size, size=2)
            radius = size / 10
            image += 0.5 * np.exp(
                -((grid[0] - centre[0]) ** 2 + (grid[1] - centre[1]) ** 2) / (2 * radius**2)
            )
        pixels = np.clip(image * 255.0, 0, 255).astype(np.uint8)
        cv2.imwrite(str(root / f"IMG_{index:04d}_{named}.png"), pixels)
    return root
