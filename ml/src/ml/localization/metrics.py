"""Localisation metrics of heatmaps against boxes, after Wang et al. 2017 (ChestX-ray8), Table 4.

A heatmap is binarised at a fraction of its maximum and every connected region (8-
connectivity) becomes a detected box. A ground-truth box counts as localised at T when a
detected box of its finding has IoU > T (intersection over union) or, in the second
criterion, IoBB > T (intersection over the detected box's area). AFP, the average number
of false positives, counts the detected boxes that localise no ground-truth box at T,
per (image, finding) pair. The pointing hit rate is the share of boxes that contain the
heatmap's maximum. Everything here is NumPy.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ml.localization.boxes import Box

THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5)
Corners = tuple[float, float, float, float]


def component_boxes(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Bounding boxes ``(x0, y0, x1, y1)`` (end-exclusive) of the 8-connected regions of a 2-D mask.

    Regions are traced as runs of each row joined to touching runs of the row above with
    a union-find, which is linear in the number of runs; the boxes are sorted by position.
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2:
        raise ValueError(f"Expected a 2-D mask, got shape {mask.shape}.")
    parent: list[int] = []

    def find(label: int) -> int:
        while parent[label] != label:
            parent[label] = parent[parent[label]]
            label = parent[label]
        return label

    runs: list[tuple[int, int, int, int]] = []
    previous: list[tuple[int, int, int]] = []
    for row in range(mask.shape[0]):
        line = mask[row]
        if not line.any():
            previous = []
            continue
        edges = np.flatnonzero(np.diff(np.concatenate(([False], line, [False])).astype(np.int8)))
        current: list[tuple[int, int, int]] = []
        first = 0
        for start, end in zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True):
            # Runs of the row above that end before this one starts (diagonals included)
            # cannot touch this run or any later one.
            while first < len(previous) and previous[first][1] < start:
                first += 1
            label = -1
            index = first
            while index < len(previous) and previous[index][0] <= end:
                root = find(previous[index][2])
                if label < 0:
                    label = root
                elif root != label:
                    parent[max(root, label)] = min(root, label)
                    label = min(root, label)
                index += 1
            if label < 0:
                label = len(parent)
                parent.append(label)
            current.append((start, end, label))
            runs.append((row, start, end, label))
        previous = current
    extents: dict[int, list[int]] = {}
    for row, start, end, label in runs:
        root = find(label)
        box = extents.setdefault(root, [start, row, end, row + 1])
        box[0] = min(box[0], start)
        box[2] = max(box[2], end)
        box[3] = row + 1
    return sorted(tuple(box) for box in extents.values())


def heatmap_boxes(heatmap: np.ndarray, fraction: float = 0.5) -> list[tuple[int, int, int, int]]:
    """Boxes of the regions where ``heatmap`` reaches ``fraction`` of its maximum (none for a zero map)."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must lie in (0, 1], not {fraction}.")
    heatmap = np.asarray(heatmap, dtype=np.float32)
    peak = float(heatmap.max()) if heatmap.size else 0.0
    if peak <= 0.0:
        return []
    return component_boxes(heatmap >= fraction * peak)


def intersection(first: Corners, second: Corners) -> float:
    width = min(first[2], second[2]) - max(first[0], second[0])
    height = min(first[3], second[3]) - max(first[1], second[1])
    return max(0.0, width) * max(0.0, height)


def area(box: Corners) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def iou(truth: Corners, detected: Corners) -> float:
    """Intersection over union of two boxes given as (x0, y0, x1, y1)."""
    shared = intersection(truth, detected)
    union = area(truth) + area(detected) - shared
    return shared / union if union > 0 else 0.0


def iobb(truth: Corners, detected: Corners) -> float:
    """Intersection over the detected box's area (Wang et al.'s IoBB)."""
    detected_area = area(detected)
    return intersection(truth, detected) / detected_area if detected_area > 0 else 0.0


@dataclass(frozen=True)
class ImageFindingResult:
    """A heatmap's detected boxes against the ground-truth boxes of one finding on one image."""

    image: str
    finding: str
    truth: tuple[Corners, ...]
    detected: tuple[Corners, ...]
    hits: tuple[bool, ...]

    def best(self, criterion: str) -> list[float]:
        """For each ground-truth box, the best IoU or IoBB of any detected box (0 with none)."""
        measure = iou if criterion == "iou" else iobb
        return [max((measure(box, found) for found in self.detected), default=0.0) for box in self.truth]

    def false_positives(self, criterion: str, threshold: float) -> int:
        measure = iou if criterion == "iou" else iobb
        return sum(
            1 for found in self.detected if not any(measure(box, found) > threshold for box in self.truth)
        )


def assess(
    image: str, finding: str, heatmap: np.ndarray, boxes: Sequence[Box], fraction: float = 0.5
) -> ImageFindingResult:
    """Compare one heatmap with its finding's boxes on that image."""
    heatmap = np.asarray(heatmap, dtype=np.float32)
    detected = tuple(tuple(float(value) for value in box) for box in heatmap_boxes(heatmap, fraction))
    if heatmap.size and heatmap.max() > 0:
        row, column = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
        # The peak pixel's centre decides whether the box contains it.
        point = (column + 0.5, row + 0.5)
        hits = tuple(
            box.x <= point[0] <= box.x + box.width and box.y <= point[1] <= box.y + box.height
            for box in boxes
        )
    else:
        hits = tuple(False for _ in boxes)
    return ImageFindingResult(
        image=image, finding=finding, truth=tuple(box.corners for box in boxes), detected=detected, hits=hits
    )


def summarise(
    results: Iterable[ImageFindingResult], thresholds: Sequence[float] = THRESHOLDS
) -> dict[str, dict]:
    """Per finding: boxes, images, pointing hit rate, mean best IoU/IoBB, accuracy and AFP at each T."""
    by_finding: dict[str, list[ImageFindingResult]] = defaultdict(list)
    for result in results:
        by_finding[result.finding].append(result)
    summary: dict[str, dict] = {}
    for finding, items in by_finding.items():
        boxes = sum(len(item.truth) for item in items)
        entry: dict[str, object] = {
            "boxes": boxes,
            "images": len(items),
            "hit_rate": sum(sum(item.hits) for item in items) / boxes if boxes else math.nan,
        }
        for criterion in ("iou", "iobb"):
            best = [value for item in items for value in item.best(criterion)]
            entry[f"mean_{criterion}"] = float(np.mean(best)) if best else math.nan
            entry[criterion] = {
                f"{threshold:g}": {
                    "accuracy": float(np.mean([value > threshold for value in best])) if best else math.nan,
                    "afp": sum(item.false_positives(criterion, threshold) for item in items) / len(items),
                }
                for threshold in thresholds
            }
        summary[finding] = entry
    return summary
