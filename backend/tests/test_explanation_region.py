"""The region a finding's SR group rests on: the hottest part of its Grad-CAM map, outlined."""

import cv2
import numpy as np
import pytest

from pacs.explanation_region import hottest_region_outline


def blob(shape: tuple[int, int], centre: tuple[int, int], radius: float, height: float) -> np.ndarray:
    rows, columns = np.indices(shape)
    return height * np.exp(-((rows - centre[0]) ** 2 + (columns - centre[1]) ** 2) / (2 * radius**2))


def test_the_outline_surrounds_the_maps_highest_blob_and_leaves_out_a_lower_one():
    heatmap = blob((200, 300), (60, 80), 12, 1.0) + blob((200, 300), (140, 220), 12, 0.8)

    outline = hottest_region_outline(heatmap)

    assert outline[0].tolist() == outline[-1].tolist()
    assert cv2.pointPolygonTest(outline, (80.5, 60.5), False) > 0
    assert cv2.pointPolygonTest(outline, (220.5, 140.5), False) < 0
    # Above 70% of a Gaussian's height lies within 0.845 of its radius of the centre.
    columns, rows = outline[:, 0] - 80.5, outline[:, 1] - 60.5
    assert np.hypot(columns, rows).max() == pytest.approx(0.845 * 12, abs=2.5)


def test_a_region_one_pixel_wide_becomes_its_bounding_box_in_image_coordinates():
    heatmap = np.zeros((50, 40), np.float32)
    heatmap[10, 5:25] = 1.0

    outline = hottest_region_outline(heatmap)

    assert outline.min(axis=0).tolist() == [5.5, 10.5] and outline.max(axis=0).tolist() == [24.5, 10.5]


def test_a_flat_map_points_nowhere_and_a_map_must_be_two_dimensional():
    assert hottest_region_outline(np.full((30, 30), 0.4, np.float32)) is None
    with pytest.raises(ValueError, match="height, width"):
        hottest_region_outline(np.zeros((3, 30, 30), np.float32))
