"""Dice and IoU per structure, with bootstrap confidence intervals over images.

``python -m ml evaluate-segmentation`` segments every radiograph of a data folder (the
layout of ``ml.segmentation.data``) exactly as the service does (``SegmentationAnalyser``:
the same preprocessing, masks resized to the radiograph) and scores each structure's mask
against the truth at the radiograph's size. Each score is the mean over images of the
per-image score; an image where truth and prediction are both empty scores 1 (nothing to
find, nothing found). The intervals are percentile bootstraps over images.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ml.evaluation.metrics import bootstrap_mean
from ml.segmentation.data import SegmentationData, read_mask, read_radiograph


def overlap_scores(truth: np.ndarray, prediction: np.ndarray) -> tuple[float, float]:
    """(Dice, IoU) of two boolean masks of one shape; (1, 1) when both are empty."""
    if truth.shape != prediction.shape:
        raise ValueError(f"Masks of shapes {truth.shape} and {prediction.shape} cannot be compared.")
    intersection = float(np.logical_and(truth, prediction).sum())
    total = float(truth.sum()) + float(prediction.sum())
    if total == 0:
        return 1.0, 1.0
    return 2.0 * intersection / total, intersection / (total - intersection)


def summarise(
    structures: tuple[str, ...], dice: np.ndarray, iou: np.ndarray, *, resamples: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Means and 95% intervals of (images, structures) arrays of per-image Dice and IoU."""
    dice_ci = bootstrap_mean(dice, resamples=resamples, seed=seed)
    iou_ci = bootstrap_mean(iou, resamples=resamples, seed=seed)
    per_structure = {
        name: {
            "dice": float(dice[:, index].mean()),
            "dice_ci95": _interval(dice_ci[index]),
            "iou": float(iou[:, index].mean()),
            "iou_ci95": _interval(iou_ci[index]),
        }
        for index, name in enumerate(structures)
    }
    return {
        "images": int(dice.shape[0]),
        "mean_dice": float(dice.mean()),
        "mean_iou": float(iou.mean()),
        "bootstrap": {"resamples": resamples, "seed": seed, "level": 0.95, "unit": "image"},
        "structures": per_structure,
    }


def evaluate_segmentation(
    weights_dir: str | os.PathLike[str] | None,
    data: SegmentationData,
    *,
    resamples: int = 1000,
    seed: int = 0,
    batch_size: int = 4,
) -> dict[str, Any]:
    """Segment every radiograph of ``data`` and score the structures the model and the data share."""
    from ml.segmentation.analyser import SegmentationAnalyser

    analyser = SegmentationAnalyser.load(weights_dir)
    shared = tuple(name for name in data.structures if name in analyser.card.structures)
    if not shared:
        raise ValueError(
            f"The model delineates {', '.join(analyser.card.structures)}; the data has masks of "
            f"{', '.join(data.structures)}: nothing to compare."
        )
    dice = np.zeros((len(data), len(shared)))
    iou = np.zeros_like(dice)
    for start in range(0, len(data), batch_size):
        batch = data.examples[start : start + batch_size]
        radiographs = [read_radiograph(example.image) for example in batch]
        segmentations = analyser.segment(
            np.stack([analyser.prepare(analyser.card, radiograph) for radiograph in radiographs]),
            sizes=[(radiograph.width, radiograph.height) for radiograph in radiographs],
        )
        for offset, (example, radiograph, segmentation) in enumerate(
            zip(batch, radiographs, segmentations, strict=True)
        ):
            for column, name in enumerate(shared):
                truth = read_mask(
                    example.masks[data.structures.index(name)], radiograph.width, radiograph.height
                )
                dice[start + offset, column], iou[start + offset, column] = overlap_scores(
                    truth, segmentation.mask(name)
                )
    result = summarise(shared, dice, iou, resamples=resamples, seed=seed)
    return {"model": analyser.card.to_dict(), **result}


def format_table(result: dict[str, Any]) -> str:
    """The per-structure figures as a text table."""
    rows = result["structures"]
    width = max(len("structure"), *(len(name) for name in rows))
    lines = [f"{'structure':<{width}}  {'Dice':>6}  {'95% CI':>15}  {'IoU':>6}  {'95% CI':>15}"]
    for name, entry in rows.items():
        lines.append(
            f"{name:<{width}}  {entry['dice']:>6.3f}  {_text(entry['dice_ci95']):>15}  "
            f"{entry['iou']:>6.3f}  {_text(entry['iou_ci95']):>15}"
        )
    lines.append(f"{'mean':<{width}}  {result['mean_dice']:>6.3f}  {'':>15}  {result['mean_iou']:>6.3f}")
    return "\n".join(lines)


def _interval(bounds: tuple[float, float] | None) -> list[float] | None:
    return None if bounds is None else [bounds[0], bounds[1]]


def _text(bounds: list[float] | None) -> str:
    return "-" if bounds is None else f"[{bounds[0]:.3f}, {bounds[1]:.3f}]"
