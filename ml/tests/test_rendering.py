"""Display renderings: heatmap overlays and the radiograph copy."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from ml.images.rendering import HEATMAP_LUT, heatmap_png, radiograph_png


def test_heatmap_png_decodes_as_rgba_at_the_same_size():
    heatmap = np.tile(np.linspace(0.0, 1.0, 320, dtype=np.float32), (200, 1))
    with Image.open(io.BytesIO(heatmap_png(heatmap))) as image:
        assert image.format == "PNG" and image.mode == "RGBA"
        assert image.size == (320, 200)
        pixels = np.asarray(image)
    # Alpha rises with intensity: no evidence is transparent, strong evidence is opaque-ish.
    assert pixels[0, 0, 3] == 0
    assert pixels[0, -1, 3] > 150
    assert np.all(np.diff(pixels[0, :, 3].astype(int)) >= 0)


def test_heatmap_colours_run_from_blue_to_red():
    assert HEATMAP_LUT.shape == (256, 4)
    low, high = HEATMAP_LUT[0], HEATMAP_LUT[-1]
    assert low[2] > low[0] and high[0] > high[2]


def test_heatmap_png_refuses_nan_and_non_2d_arrays():
    with pytest.raises(ValueError, match="NaN"):
        heatmap_png(np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match="2-D"):
        heatmap_png(np.zeros((4, 4, 3)))


def test_radiograph_png_is_an_8_bit_greyscale_copy(radiograph):
    with Image.open(io.BytesIO(radiograph_png(radiograph))) as image:
        assert image.mode == "L" and image.size == (radiograph.width, radiograph.height)
        np.testing.assert_array_equal(np.asarray(image), np.round(radiograph.pixels * 255.0).astype(np.uint8))
