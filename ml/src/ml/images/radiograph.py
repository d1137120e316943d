"""The decoded radiograph every part of the package works on, and what its file said about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

# Radiographs are rarely larger than 4,300 x 4,300 detector pixels; 50 megapixels leaves room
# and still bounds the memory a malicious upload can make us allocate (4 bytes a pixel).
MAX_PIXELS = 50_000_000
# Below this nothing can be decoded into a meaningful picture; the service asks for more
# (ml.images.screening.MIN_RADIOGRAPH_SIDE), but training on small test images may go this low.
MIN_SIDE = 64


@dataclass(frozen=True)
class ImageMetadata:
    """What the file says about the image (DICOM tags; PNG and JPEG carry none of it)."""

    modality: str | None = None
    body_part: str | None = None
    view_position: str | None = None
    patient_age_years: int | None = None
    patient_sex: str | None = None
    pixel_spacing_mm: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        if self.pixel_spacing_mm is not None:
            values["pixel_spacing_mm"] = list(self.pixel_spacing_mm)
        return values


@dataclass
class Radiograph:
    """A decoded greyscale radiograph.

    ``pixels`` is a float32 array of shape (height, width) with 0 for black and 1 for the
    brightest value the file's bit depth can hold (not the brightest pixel of the image),
    so that grey levels mean the same across images of one bit depth.
    """

    pixels: np.ndarray
    bit_depth: int
    metadata: ImageMetadata = field(default_factory=ImageMetadata)
    # Share of pixels whose colour channels disagree: 0 for any greyscale file.
    colour_fraction: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.pixels, np.ndarray) or self.pixels.ndim != 2:
            raise ValueError("Radiograph.pixels must be a 2-D NumPy array.")
        if self.pixels.dtype != np.float32:
            raise ValueError(f"Radiograph.pixels must be float32, not {self.pixels.dtype}.")
        if self.pixels.size == 0:
            raise ValueError("Radiograph.pixels must not be empty.")
        if self.bit_depth not in (8, 16):
            raise ValueError(f"Radiograph.bit_depth must be 8 or 16, not {self.bit_depth}.")

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    def with_pixels(self, pixels: np.ndarray) -> Radiograph:
        """The same radiograph (metadata and all) with other pixels, e.g. corrected grey levels."""
        return Radiograph(
            pixels=pixels,
            bit_depth=self.bit_depth,
            metadata=self.metadata,
            colour_fraction=self.colour_fraction,
        )
