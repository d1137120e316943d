"""The cardiothoracic ratio measured exactly on drawn masks, and its refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ml.segmentation.cardiothoracic import (
    AP_CAVEAT,
    UNKNOWN_VIEW_CAVEAT,
    measure_cardiothoracic_ratio,
    unmeasurable_reason,
)
from ml.segmentation.result import Segmentation

SIDE = 100
STRUCTURES = ("left_lung", "right_lung", "heart")


def _segmentation(
    heart: np.ndarray, left: np.ndarray, right: np.ndarray, *, width: int = SIDE, height: int = SIDE
) -> Segmentation:
    return Segmentation(STRUCTURES, np.stack([left, right, heart], axis=-1), width, height)


def _rectangle(top: int, bottom: int, left: int, right: int) -> np.ndarray:
    """Rows top..bottom and columns left..right, inclusive."""
    mask = np.zeros((SIDE, SIDE), bool)
    mask[top : bottom + 1, left : right + 1] = True
    return mask


def _ellipse(centre_x: int, centre_y: int, half_width: int, half_height: int) -> np.ndarray:
    rows, columns = np.mgrid[:SIDE, :SIDE]
    return ((columns - centre_x) / half_width) ** 2 + ((rows - centre_y) / half_height) ** 2 <= 1.0


def test_ratio_of_rectangles_is_heart_width_over_outer_lung_edges() -> None:
    # Patient's right lung on the image's left (PA): columns 10-39, left lung 60-89, heart 35-64.
    right = _rectangle(20, 80, 10, 39)
    left = _rectangle(20, 80, 60, 89)
    heart = _rectangle(60, 85, 35, 64)
    ratio = measure_cardiothoracic_ratio(_segmentation(heart, left, right), "PA")
    assert ratio is not None
    assert ratio.heart_line.width == 30 and (ratio.heart_line.x_start, ratio.heart_line.x_end) == (35, 64)
    assert ratio.thorax_line.width == 80 and (ratio.thorax_line.x_start, ratio.thorax_line.x_end) == (10, 89)
    # The thorax is measured on a row both lungs share: rows 20-80, the topmost widest is 20.
    assert ratio.thorax_line.y == 20 and ratio.heart_line.y == 60
    assert ratio.ratio == pytest.approx(30 / 80)
    assert not ratio.above_range and ratio.caveat is None


def test_widest_rows_of_ellipses_are_found_and_an_enlarged_heart_is_above_range() -> None:
    right = _ellipse(25, 45, 18, 30)  # columns 7-43 on row 45
    left = _ellipse(75, 50, 20, 30)  # columns 55-95 on row 50
    heart = _ellipse(50, 70, 23, 12)  # columns 27-73 on row 70
    ratio = measure_cardiothoracic_ratio(_segmentation(heart, left, right), "AP")
    assert ratio is not None
    assert (ratio.heart_line.y, ratio.heart_line.x_start, ratio.heart_line.x_end) == (70, 27, 73)
    # Row by row the outer edges are right's leftmost and left's rightmost pixel; both extremes
    # fall on different rows (45 and 50), so the widest shared row lies between them.
    rows = [y for y in range(SIDE) if right[y].any() and left[y].any()]
    widths = {
        y: np.flatnonzero(left[y] | right[y])[-1] - np.flatnonzero(left[y] | right[y])[0] + 1 for y in rows
    }
    best = max(rows, key=lambda y: (widths[y], -y))
    assert ratio.thorax_line.y == best and ratio.thorax_line.width == widths[best]
    assert ratio.ratio == pytest.approx(47 / widths[best])
    assert ratio.above_range  # 47 / 88 or so, above 0.50
    assert ratio.view == "AP" and ratio.caveat == AP_CAVEAT


def test_unknown_view_gets_the_pa_limit_with_a_caveat_and_to_dict_is_json() -> None:
    segmentation = _segmentation(
        _rectangle(60, 70, 40, 59), _rectangle(10, 80, 60, 89), _rectangle(10, 80, 10, 39)
    )
    ratio = measure_cardiothoracic_ratio(segmentation, "LL")
    assert ratio is not None and ratio.view is None and ratio.caveat == UNKNOWN_VIEW_CAVEAT
    data = json.loads(json.dumps(ratio.to_dict()))
    assert data == {
        "ratio": 0.25,
        "heart_line": [[40, 60], [59, 60]],
        "thorax_line": [[10, 10], [89, 10]],
        "normal_upper_limit": 0.5,
        "above_range": False,
        "view": None,
        "caveat": UNKNOWN_VIEW_CAVEAT,
    }


def test_missing_or_empty_structures_give_none_with_a_reason() -> None:
    empty = np.zeros((SIDE, SIDE), bool)
    lungs = (_rectangle(10, 40, 60, 89), _rectangle(10, 40, 10, 39))
    no_heart = _segmentation(empty, *lungs)
    assert measure_cardiothoracic_ratio(no_heart) is None
    assert unmeasurable_reason(no_heart) == "no heart was found on this radiograph"

    apart = _segmentation(_rectangle(60, 70, 40, 59), _rectangle(10, 30, 60, 89), _rectangle(50, 80, 10, 39))
    assert measure_cardiothoracic_ratio(apart) is None
    assert unmeasurable_reason(apart) == "the two lungs share no row of the radiograph"

    heart_only = Segmentation(("heart",), _rectangle(60, 70, 40, 59)[:, :, None], SIDE, SIDE)
    assert measure_cardiothoracic_ratio(heart_only) is None
    assert unmeasurable_reason(heart_only) == "the model does not delineate the left lung"
