"""Planted segmentation data for the tests: drawn "lungs" and "heart" on noise, in the JSRT/SCR layout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

STRUCTURES = ("left_lung", "right_lung", "heart")


@dataclass(frozen=True)
class PlantedImage:
    pixels: np.ndarray  # (side, side) uint8
    masks: dict[str, np.ndarray]  # bools


def planted_image(rng: np.random.Generator, side: int = 64) -> PlantedImage:
    """Two dark lung ellipses and a bright heart ellipse between them, sizes and places jittered.

    The patient's right lung is on the image's left (a PA film), the heart overlaps neither.
    """

    def jitter(value: float, spread: float) -> int:
        return round((value + rng.uniform(-spread, spread)) * side)

    masks = {}
    for name, centre_x in (("right_lung", 0.28), ("left_lung", 0.72)):
        mask = np.zeros((side, side), np.uint8)
        cv2.ellipse(
            mask,
            (jitter(centre_x, 0.02), jitter(0.45, 0.03)),
            (jitter(0.13, 0.02), jitter(0.27, 0.03)),
            0,
            0,
            360,
            1,
            -1,
        )
        masks[name] = mask.astype(bool)
    heart = np.zeros((side, side), np.uint8)
    cv2.ellipse(
        heart,
        (jitter(0.5, 0.02), jitter(0.68, 0.02)),
        (jitter(0.09, 0.01), jitter(0.08, 0.01)),
        0,
        0,
        360,
        1,
        -1,
    )
    masks["heart"] = heart.astype(bool) & ~masks["left_lung"] & ~masks["right_lung"]
    pixels = rng.normal(0.55, 0.08, (side, side))
    pixels[masks["left_lung"] | masks["right_lung"]] -= 0.3
    pixels[masks["heart"]] += 0.3
    return PlantedImage(np.clip(pixels * 255, 0, 255).astype(np.uint8), masks)


def write_planted_folder(
    root: Path, count: int, *, seed: int = 0, side: int = 64, mask_suffix: str = ".png"
) -> Path:
    """``root/images/IMGnnn.png`` and ``root/masks/<structure>/IMGnnn<suffix>``; returns ``root``."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    for name in STRUCTURES:
        (root / "masks" / name).mkdir(parents=True)
    for index in range(count):
        image = planted_image(rng, side)
        stem = f"IMG{index:03d}"
        Image.fromarray(image.pixels).save(root / "images" / f"{stem}.png")
        for name, mask in image.masks.items():
            Image.fromarray(mask.astype(np.uint8) * 255).save(root / "masks" / name / f"{stem}{mask_suffix}")
    return root
