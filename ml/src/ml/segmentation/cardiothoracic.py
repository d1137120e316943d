"""The cardiothoracic ratio measured on the heart and lung masks of a frontal radiograph.

The ratio is the heart's widest horizontal extent over the thorax's: the heart's is the
widest row of the heart mask; the thorax's the widest row on which both lungs are present,
from the outer edge of one lung to the outer edge of the other (the inner margins of the
ribs). Both are counted in radiograph pixels, first to last pixel inclusive, on the masks
at the radiograph's size. Above 0.50 on a PA film the heart is commonly called enlarged;
an AP film magnifies the heart, so there the ratio overestimates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ml.segmentation.result import Segmentation

NORMAL_UPPER_LIMIT = 0.50
HEART = "heart"
LUNGS = ("left_lung", "right_lung")
AP_CAVEAT = "An AP film magnifies the heart: the ratio overestimates, and the 0.50 limit is for PA films."
UNKNOWN_VIEW_CAVEAT = (
    "The view position is unknown: the 0.50 limit is for PA films, and an AP film magnifies the heart."
)


@dataclass(frozen=True)
class MeasurementLine:
    """A horizontal measurement from the first to the last pixel of a row, in radiograph pixels."""

    y: int
    x_start: int
    x_end: int

    @property
    def width(self) -> int:
        return self.x_end - self.x_start + 1

    def to_list(self) -> list[list[int]]:
        """The line's two ends, [[x, y], [x, y]], as the service draws them."""
        return [[self.x_start, self.y], [self.x_end, self.y]]

    @classmethod
    def from_list(cls, ends: list[list[int]]) -> MeasurementLine:
        (x_start, y), (x_end, _) = ends
        return cls(y=int(y), x_start=int(x_start), x_end=int(x_end))


@dataclass(frozen=True)
class CardiothoracicRatio:
    ratio: float
    heart_line: MeasurementLine
    thorax_line: MeasurementLine
    view: str | None
    normal_upper_limit: float = NORMAL_UPPER_LIMIT

    @property
    def above_range(self) -> bool:
        return self.ratio > self.normal_upper_limit

    @property
    def caveat(self) -> str | None:
        if self.view == "PA":
            return None
        return AP_CAVEAT if self.view == "AP" else UNKNOWN_VIEW_CAVEAT

    def to_dict(self) -> dict[str, Any]:
        return {
            "ratio": round(self.ratio, 4),
            "heart_line": self.heart_line.to_list(),
            "thorax_line": self.thorax_line.to_list(),
            "normal_upper_limit": self.normal_upper_limit,
            "above_range": self.above_range,
            "view": self.view,
            "caveat": self.caveat,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CardiothoracicRatio:
        """A ratio as ``to_dict`` wrote it (its flags and caveat follow from the rest)."""
        return cls(
            ratio=float(data["ratio"]),
            heart_line=MeasurementLine.from_list(data["heart_line"]),
            thorax_line=MeasurementLine.from_list(data["thorax_line"]),
            view=data["view"],
            normal_upper_limit=float(data["normal_upper_limit"]),
        )


def measure_cardiothoracic_ratio(
    segmentation: Segmentation, view_position: str | None = None
) -> CardiothoracicRatio | None:
    """The ratio with its two lines, or None when it cannot be measured (see ``unmeasurable_reason``).

    ``view_position`` is the DICOM View Position ("PA", "AP"; anything else counts as unknown).
    """
    if unmeasurable_reason(segmentation) is not None:
        return None
    heart = _widest_row(segmentation.mask(HEART))
    left, right = (segmentation.mask(name) for name in LUNGS)
    both_lungs = left.any(axis=1) & right.any(axis=1)
    thorax = _widest_row((left | right) & both_lungs[:, np.newaxis])
    if heart is None or thorax is None:
        return None
    view = view_position.strip().upper() if view_position else None
    return CardiothoracicRatio(
        ratio=heart.width / thorax.width,
        heart_line=heart,
        thorax_line=thorax,
        view=view if view in ("PA", "AP") else None,
    )


def unmeasurable_reason(segmentation: Segmentation) -> str | None:
    """Why the ratio cannot be measured on ``segmentation`` (a structure missing or empty), or None."""
    for name in (HEART, *LUNGS):
        if name not in segmentation.structures:
            return f"the model does not delineate the {name.replace('_', ' ')}"
        if not segmentation.network_mask(name).any():
            return f"no {name.replace('_', ' ')} was found on this radiograph"
    left, right = (segmentation.mask(name) for name in LUNGS)
    if not (left.any(axis=1) & right.any(axis=1)).any():
        return "the two lungs share no row of the radiograph"
    return None


def _widest_row(mask: np.ndarray) -> MeasurementLine | None:
    """The row where the mask's first and last pixels lie furthest apart (the topmost such row)."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    columns = mask[rows]
    first = np.argmax(columns, axis=1)
    last = mask.shape[1] - 1 - np.argmax(columns[:, ::-1], axis=1)
    best = int(np.argmax(last - first))
    return MeasurementLine(y=int(rows[best]), x_start=int(first[best]), x_end=int(last[best]))
