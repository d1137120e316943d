"""How faithful a map is to the model: the deletion and insertion curves (Petsiuk et al., 2018).

Pixels are taken in the map's order, most relevant first. Deletion removes them from the input
step by step and records the finding's probability; insertion starts from the input with
everything removed and reveals them in the same order. The areas under the two curves
(fraction of pixels on the x axis, probability on the y axis, both in [0, 1]) score the map:
a faithful map makes the probability fall fast on deletion (low deletion AUC) and rise fast on
insertion (high insertion AUC).

"Removed" means replaced by the same pixels of a Gaussian-blurred copy of the input
(sigma = ``blur_sigma`` times the input size), for every method alike, Grad-CAM included, and
for occlusion's patches and the integrated-gradients baseline: blurring takes the detail away
while keeping the image's overall grey levels, so a removed region does not look like a black
hole the network never saw in training. A pixel is a location with all its channels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

# Probabilities of one finding for a batch of inputs (N, H, W, C) -> (N,).
LabelProbability = Callable[[np.ndarray], np.ndarray]

# Inputs per forward call: the curves' steps go through in a few batched passes.
FORWARD_BATCH = 16


@dataclass(frozen=True)
class Faithfulness:
    deletion_auc: float
    insertion_auc: float
    deletion_curve: np.ndarray
    insertion_curve: np.ndarray


def removed_input(image: np.ndarray, blur_sigma: float) -> np.ndarray:
    """``image`` (H, W, C) with its content removed: Gaussian-blurred, sigma a fraction of its size."""
    sigma = blur_sigma * image.shape[0]
    blurred = cv2.GaussianBlur(
        np.ascontiguousarray(image, dtype=np.float32), (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT
    )
    # OpenCV drops a single channel's axis.
    return blurred.reshape(image.shape)


def batched(probability: LabelProbability, images: np.ndarray) -> np.ndarray:
    """``probability`` over many inputs, FORWARD_BATCH at a time (bounded memory)."""
    return np.concatenate(
        [probability(images[start : start + FORWARD_BATCH]) for start in range(0, len(images), FORWARD_BATCH)]
    ).astype(np.float64)


def faithfulness(
    probability: LabelProbability, image: np.ndarray, relevance: np.ndarray, removed: np.ndarray, steps: int
) -> Faithfulness:
    """Deletion and insertion AUCs of ``relevance`` (H, W) for ``image`` (H, W, C), in ``steps`` steps.

    Ties in the map keep raster order (a stable sort), so one map always gives one score.
    """
    if relevance.shape != image.shape[:2] or removed.shape != image.shape:
        raise ValueError(
            f"The map {relevance.shape} and removed input {removed.shape} must match the input {image.shape}."
        )
    if not np.all(np.isfinite(relevance)):
        raise ValueError("A map must not contain NaN or infinite values.")
    order = np.argsort(-relevance.ravel(), kind="stable")
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    rank = rank.reshape(relevance.shape)[..., np.newaxis]
    fractions = np.linspace(0.0, 1.0, steps + 1)
    counts = np.round(fractions * order.size).astype(np.int64)
    deleted = np.stack([np.where(rank < count, removed, image) for count in counts])
    inserted = np.stack([np.where(rank < count, image, removed) for count in counts])
    curves = batched(probability, np.concatenate([deleted, inserted]).astype(np.float32))
    deletion, insertion = curves[: steps + 1], curves[steps + 1 :]
    return Faithfulness(
        deletion_auc=float(np.trapezoid(deletion, fractions)),
        insertion_auc=float(np.trapezoid(insertion, fractions)),
        deletion_curve=deletion,
        insertion_curve=insertion,
    )
