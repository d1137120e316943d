"""Localisation metrics: connected regions, IoU/IoBB, hit rate, accuracy and AFP, box files."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from ml.errors import DataError
from ml.localization.boxes import Box, read_boxes
from ml.localization.metrics import assess, component_boxes, heatmap_boxes, iobb, iou, summarise


@pytest.mark.parametrize("seed", range(6))
def test_component_boxes_equal_scipy_labelling_with_8_connectivity(seed):
    rng = np.random.default_rng(seed)
    mask = rng.random((40, 57)) < (0.2 + 0.1 * seed)
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    expected = sorted(
        (region[1].start, region[0].start, region[1].stop, region[0].stop)
        for region in ndimage.find_objects(labels)
    )
    assert len(expected) == count
    assert component_boxes(mask) == expected


def test_diagonal_neighbours_join_and_u_shapes_merge():
    mask = np.zeros((6, 6), dtype=bool)
    mask[0, 0] = mask[1, 1] = True  # diagonal: one region under 8-connectivity
    mask[3:6, 2] = mask[3:6, 5] = True
    mask[5, 2:6] = True  # a U whose arms meet only at the bottom row
    assert component_boxes(mask) == [(0, 0, 2, 2), (2, 3, 6, 6)]
    assert component_boxes(np.zeros((4, 4), dtype=bool)) == []


def test_heatmap_boxes_threshold_at_a_fraction_of_the_peak():
    heatmap = np.zeros((10, 10), dtype=np.float32)
    heatmap[1:3, 1:4] = 1.0
    heatmap[6:9, 6:8] = 0.4
    assert heatmap_boxes(heatmap, 0.5) == [(1, 1, 4, 3)]
    assert heatmap_boxes(heatmap, 0.3) == [(1, 1, 4, 3), (6, 6, 8, 9)]
    assert heatmap_boxes(np.zeros((5, 5)), 0.5) == []


def test_iou_and_iobb_by_hand():
    truth = (0.0, 0.0, 10.0, 10.0)
    detected = (5.0, 0.0, 15.0, 10.0)
    assert iou(truth, detected) == pytest.approx(50 / 150)
    assert iobb(truth, detected) == pytest.approx(50 / 100)
    assert iobb(truth, (2.0, 2.0, 4.0, 4.0)) == 1.0  # a small box inside the truth
    assert iou(truth, (20.0, 20.0, 30.0, 30.0)) == 0.0


def test_summary_gives_hit_rate_accuracy_and_false_positives_per_threshold():
    heatmap = np.zeros((100, 100), dtype=np.float32)
    heatmap[10:30, 10:40] = 1.0  # overlaps the first box exactly
    heatmap[70:80, 70:80] = 0.9  # a false positive
    exact = Box("a.png", "Mass", 10, 10, 30, 20)
    shifted = Box("b.png", "Mass", 25, 10, 30, 20)  # half of the detected box
    results = [assess("a.png", "Mass", heatmap, [exact]), assess("b.png", "Mass", heatmap, [shifted])]
    summary = summarise(results, thresholds=(0.1, 0.5))["Mass"]
    assert summary["boxes"] == 2 and summary["images"] == 2
    assert summary["hit_rate"] == 0.5  # the peak (first hottest pixel) is at (10, 10): inside a only
    overlap = 15 * 20
    assert summary["mean_iou"] == pytest.approx((1.0 + overlap / (600 + 600 - overlap)) / 2)
    assert summary["iou"]["0.1"] == {"accuracy": 1.0, "afp": 1.0}
    assert summary["iou"]["0.5"]["accuracy"] == 0.5
    assert summary["iou"]["0.5"]["afp"] == 1.5
    assert summary["iobb"]["0.5"]["accuracy"] == 0.5  # IoBB of b is exactly 0.5, not above


def test_read_boxes_reads_nih_layout_and_aliases_infiltrate(tmp_path):
    path = tmp_path / "BBox_List_2017.csv"
    path.write_text(
        "Image Index,Finding Label,Bbox [x,y,w,h],,,\n"
        "00013118_008.png,Atelectasis,225.08,547.01,86.77,79.18,,,\n"
        "00014716_007.png,Infiltrate,686.91,443.47,166.63,119.46,,,\n"
    )
    boxes = read_boxes(path)
    assert boxes[0] == Box("00013118_008.png", "Atelectasis", 225.08, 547.01, 86.77, 79.18)
    assert boxes[1].finding == "Infiltration"
    path.write_text("Image Index,Finding Label,x,y,w,h\na.png,Mass,1,2,0,4\n")
    with pytest.raises(DataError, match="line 2"):
        read_boxes(path)
