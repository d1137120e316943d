"""One radiograph's segmentation: a mask per structure, kept small and placed on request.

Masks are stored at the network's resolution as packed bits (a 256x256 mask is 8 KiB
before compression), and resized to the radiograph's size only when asked for, as the
classifier's heatmaps are.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np

_FORMAT = 1


@dataclass(frozen=True)
class Segmentation:
    """Masks (side, side, structures) of bools at network resolution, for a ``width`` x ``height`` radiograph.

    The network's input was the whole radiograph stretched to a square, so mask pixel (i, j)
    covers the radiograph around ((j + 0.5) * width / side - 0.5, (i + 0.5) * height / side - 0.5).
    """

    structures: tuple[str, ...]
    masks: np.ndarray
    width: int
    height: int

    def __post_init__(self) -> None:
        masks = self.masks
        if masks.dtype != np.bool_ or masks.ndim != 3 or masks.shape[0] != masks.shape[1]:
            raise ValueError("Segmentation.masks must be a (side, side, structures) array of bools.")
        if masks.shape[2] != len(self.structures) or len(set(self.structures)) != len(self.structures):
            raise ValueError("Segmentation.structures must name each mask once.")
        if self.width < 1 or self.height < 1:
            raise ValueError(f"A radiograph of {self.width}x{self.height} pixels cannot be segmented.")

    @property
    def side(self) -> int:
        return int(self.masks.shape[0])

    def network_mask(self, name: str) -> np.ndarray:
        """The mask of ``name`` at network resolution (side, side)."""
        return self.masks[:, :, self._index(name)]

    def mask(self, name: str) -> np.ndarray:
        """The mask of ``name`` at the radiograph's size, (height, width) bools."""
        mask = self.network_mask(name)
        if (self.width, self.height) == (self.side, self.side):
            return mask.copy()
        # Bilinear on 0/255 then halfway: smoother outlines than nearest-neighbour blocks.
        resized = cv2.resize(
            mask.astype(np.uint8) * 255, (self.width, self.height), interpolation=cv2.INTER_LINEAR
        )
        return resized >= 128

    def contours(self, name: str) -> list[list[list[float]]]:
        """Outer outlines of ``name`` as polygons [[x, y], ...] in radiograph pixels.

        Found at network resolution (OpenCV's ``findContours``), simplified to within one
        network pixel (``approxPolyDP``) and scaled onto the radiograph; pieces of fewer
        than three corners are left out.
        """
        mask = self.network_mask(name).astype(np.uint8)
        found, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        scale = np.array([self.width / self.side, self.height / self.side])
        polygons = []
        for contour in found:
            simplified = cv2.approxPolyDP(contour, 1.0, True).reshape(-1, 2)
            if len(simplified) < 3:
                continue
            points = (simplified + 0.5) * scale - 0.5
            polygons.append([[round(float(x), 1), round(float(y), 1)] for x, y in points])
        return polygons

    def to_bytes(self) -> bytes:
        """A small npz: the masks as packed bits, their structures and the radiograph's size."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            format=np.array(_FORMAT),
            bits=np.packbits(self.masks.reshape(-1)),
            shape=np.array(self.masks.shape),
            structures=np.array(self.structures),
            size=np.array([self.width, self.height]),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Segmentation:
        """Read what ``to_bytes`` wrote; ValueError if it is not such a file."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as stored:
                if int(stored["format"]) != _FORMAT:
                    raise ValueError("unknown format")
                shape = tuple(int(value) for value in stored["shape"])
                count = int(np.prod(shape))
                masks = np.unpackbits(stored["bits"], count=count).astype(bool).reshape(shape)
                width, height = (int(value) for value in stored["size"])
                structures = tuple(str(name) for name in stored["structures"])
        except (OSError, KeyError, ValueError, EOFError) as error:
            raise ValueError(f"Not a stored segmentation: {error}.") from error
        return cls(structures=structures, masks=masks, width=width, height=height)

    def _index(self, name: str) -> int:
        try:
            return self.structures.index(name)
        except ValueError:
            raise KeyError(
                f"No {name!r} in this segmentation; it has {', '.join(self.structures)}."
            ) from None
