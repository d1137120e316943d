"""Heatmaps as the network made them: one small map per finding, kept until someone looks.

A study's Grad-CAM maps are 7x7 per finding at 224x224 input. Upsampling fourteen of them to a
1024x1024 radiograph and encoding each as a PNG cost thirty times the forward pass, for maps that
are mostly never opened. So a result keeps the small maps and the crop they belong to, stored as
one compressed file per study, and a map is brought to the radiograph's size only when shown.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from ml.classifier.explanations.gradcam import maps_to_radiograph_frame
from ml.images.preprocessing import CropBox, frame_from_array, frame_to_array

FILE_EXTENSION = "npz"


@dataclass(frozen=True)
class Heatmaps:
    """Normalised maps (C, h, w) in [0, 1] for ``labels``, and where they sit on the radiograph."""

    labels: tuple[str, ...]
    maps: np.ndarray
    crop: CropBox
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.maps.ndim != 3 or self.maps.shape[0] != len(self.labels):
            raise ValueError(f"Expected {len(self.labels)} maps of shape (h, w), got {self.maps.shape}.")

    def small(self, label: str) -> np.ndarray:
        """The map of ``label`` at the network's resolution."""
        return self.maps[self._index(label)]

    def at_radiograph_size(self, label: str) -> np.ndarray:
        """The map of ``label`` upsampled onto the crop, in a frame of the radiograph's size."""
        return maps_to_radiograph_frame(self.small(label), self.crop, self.width, self.height)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            labels=np.array(self.labels),
            maps=self.maps.astype(np.float32),
            frame=frame_to_array(self.crop, self.width, self.height),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Heatmaps:
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            crop, width, height = frame_from_array(stored["frame"])
            return cls(
                labels=tuple(str(label) for label in stored["labels"]),
                maps=stored["maps"].astype(np.float32),
                crop=crop,
                width=width,
                height=height,
            )

    def _index(self, label: str) -> int:
        try:
            return self.labels.index(label)
        except ValueError:
            raise KeyError(f"No heatmap for {label!r}.") from None
