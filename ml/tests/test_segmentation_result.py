"""Segmentation results: placed at the radiograph's size, outlined, and stored small."""

from __future__ import annotations

import numpy as np
import pytest

from ml.segmentation.result import Segmentation


def _segmentation(width: int, height: int) -> Segmentation:
    masks = np.zeros((32, 32, 2), bool)
    masks[8:24, 4:12, 0] = True  # a 16-row, 8-column block
    masks[2:5, 20:30, 1] = True
    return Segmentation(("heart", "left_lung"), masks, width, height)


def test_masks_are_placed_at_the_radiographs_size() -> None:
    segmentation = _segmentation(width=64, height=128)
    heart = segmentation.mask("heart")
    assert heart.shape == (128, 64) and heart.dtype == np.bool_
    rows, columns = np.flatnonzero(heart.any(axis=1)), np.flatnonzero(heart.any(axis=0))
    # Stretched by 2 across and 4 down: columns 8-23, rows 32-95, give or take the edge pixel.
    assert abs(columns[0] - 8) <= 1 and abs(columns[-1] - 23) <= 1
    assert abs(rows[0] - 32) <= 2 and abs(rows[-1] - 95) <= 2
    assert heart.sum() == pytest.approx(16 * 64, rel=0.1)


def test_contours_are_polygons_in_radiograph_pixels() -> None:
    segmentation = _segmentation(width=32, height=32)
    (polygon,) = segmentation.contours("heart")
    assert sorted(map(tuple, polygon)) == sorted([(4.0, 8.0), (4.0, 23.0), (11.0, 23.0), (11.0, 8.0)])
    scaled = _segmentation(width=64, height=64).contours("heart")[0]
    assert sorted(map(tuple, scaled)) == sorted([(8.5, 16.5), (8.5, 46.5), (22.5, 46.5), (22.5, 16.5)])


def test_round_trip_through_bytes_keeps_every_mask_and_the_size() -> None:
    segmentation = _segmentation(width=1000, height=800)
    data = segmentation.to_bytes()
    restored = Segmentation.from_bytes(data)
    assert restored.structures == segmentation.structures
    assert (restored.width, restored.height) == (1000, 800)
    np.testing.assert_array_equal(restored.masks, segmentation.masks)
    assert (
        len(data) < segmentation.masks.size
    )  # packed bits: less than a byte a mask pixel, overhead included


def test_bad_bytes_and_unknown_structures_are_refused() -> None:
    with pytest.raises(ValueError, match="Not a stored segmentation"):
        Segmentation.from_bytes(b"not an npz")
    with pytest.raises(KeyError, match="No 'ribs' in this segmentation"):
        _segmentation(32, 32).mask("ribs")
    with pytest.raises(ValueError, match="name each mask once"):
        Segmentation(("heart",), np.zeros((4, 4, 2), bool), 4, 4)
