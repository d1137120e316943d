"""PNG renderings for display: heatmap overlays and the radiograph's 8-bit copy."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from ml.images.radiograph import Radiograph

# Anchor colours of a Turbo-like map (dark blue, blue, cyan, green, yellow, orange, red,
# dark red): perceptually ordered, and readable over grey anatomy, unlike plain "jet".
_ANCHORS = np.array(
    [
        (0.000, 48, 18, 59),
        (0.125, 70, 107, 227),
        (0.250, 40, 170, 245),
        (0.375, 30, 225, 180),
        (0.500, 140, 250, 70),
        (0.625, 220, 225, 55),
        (0.750, 250, 160, 45),
        (0.875, 225, 70, 15),
        (1.000, 122, 4, 3),
    ],
    dtype=np.float64,
)
# Opacity reaches its maximum at this intensity; weaker evidence fades out so the
# radiograph stays visible wherever the model did not look.
_FULL_ALPHA_AT = 0.6
_MAX_ALPHA = 200


def _lookup_table() -> np.ndarray:
    """The 256-entry RGBA table, interpolated between the anchor colours."""
    levels = np.linspace(0.0, 1.0, 256)
    table = np.empty((256, 4), dtype=np.uint8)
    for channel in range(3):
        table[:, channel] = np.round(np.interp(levels, _ANCHORS[:, 0], _ANCHORS[:, channel + 1]))
    table[:, 3] = np.round(_MAX_ALPHA * np.clip(levels / _FULL_ALPHA_AT, 0.0, 1.0))
    return table


HEATMAP_LUT = _lookup_table()


def heatmap_png(heatmap: np.ndarray) -> bytes:
    """An RGBA PNG of ``heatmap`` (2-D, values in [0, 1]) at its own size, to overlay in a browser."""
    heatmap = np.asarray(heatmap)
    if heatmap.ndim != 2 or heatmap.size == 0:
        raise ValueError(f"A heatmap must be a non-empty 2-D array, not of shape {heatmap.shape}.")
    if not np.all(np.isfinite(heatmap)):
        raise ValueError("A heatmap must not contain NaN or infinite values.")
    levels = np.round(np.clip(heatmap, 0.0, 1.0) * 255.0).astype(np.uint8)
    return _png(Image.fromarray(HEATMAP_LUT[levels]))


def radiograph_png(radiograph: Radiograph) -> bytes:
    """An 8-bit greyscale PNG of the radiograph for display (16-bit sources are rounded)."""
    grey = np.round(np.clip(radiograph.pixels, 0.0, 1.0) * 255.0).astype(np.uint8)
    return _png(Image.fromarray(grey))


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
