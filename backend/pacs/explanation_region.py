"""The image region a finding rests on, as the classifier's Grad-CAM map shows it.

The region is the hottest part of the map: the connected area around the map's maximum where it
reaches ``HOT_FRACTION`` of the way from the map's minimum to its maximum, outlined with OpenCV and
simplified to within a couple of pixels. Its outline is a closed polyline in DICOM's 2D image
coordinates (column, row), in which the top left corner of the first pixel is (0, 0), so a pixel's
centre sits half a pixel in.
"""

import cv2
import numpy as np

HOT_FRACTION = 0.7
# A map whose values span less than this (of its [0, 1]) points nowhere.
FLAT = 1e-3
# How far (pixels) the simplified outline may stray from the traced one.
OUTLINE_TOLERANCE = 2.0


def hottest_region_outline(heatmap: np.ndarray) -> np.ndarray | None:
    """A closed outline (first point repeated last) of the hottest region of ``heatmap`` (height,
    width), as (n, 2) float32 (column, row) image coordinates; None for a map with no hotter part
    (Grad-CAM is flat where no feature raised the class's logit)."""
    if heatmap.ndim != 2 or heatmap.size == 0:
        raise ValueError(f"A heatmap is a (height, width) array, not one of shape {heatmap.shape}.")
    values = np.nan_to_num(heatmap.astype(np.float32), nan=0.0)
    peak_row, peak_column = np.unravel_index(int(np.argmax(values)), values.shape)
    peak, floor = float(values[peak_row, peak_column]), float(values.min())
    if peak - floor < FLAT:
        return None
    hot = (values >= floor + HOT_FRACTION * (peak - floor)).astype(np.uint8)
    _, components = cv2.connectedComponents(hot)
    region = (components == components[peak_row, peak_column]).astype(np.uint8)
    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    outline = cv2.approxPolyDP(max(contours, key=cv2.contourArea), OUTLINE_TOLERANCE, True).reshape(-1, 2)
    if len(outline) < 3:
        # A region a pixel or a line wide: its bounding box.
        x, y, width, height = cv2.boundingRect(region)
        outline = np.array([[x, y], [x + width - 1, y], [x + width - 1, y + height - 1], [x, y + height - 1]])
    centres = outline.astype(np.float32) + 0.5
    return np.vstack([centres, centres[:1]])
