"""A split's slices in memory, and the batches Keras trains and validates on.

Every volume is read once, windowed and resized (``ml.ct.mosmed.load_slices``) into one
uint8 array; ``volume_of_slice`` says which volume each slice came from, so the slices'
outputs can be pooled into their patient's.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from ml.ct.mosmed import Volume, load_slices
from ml.ct.window import LungWindow, slices_from_uint8
from ml.errors import DataError
from ml.evaluation.grouping import pool_groups


@dataclass(frozen=True)
class SliceSet:
    """Slices (n, size, size) uint8, each slice's 0/1 label, its volume's index, and the volumes."""

    images: np.ndarray
    labels: np.ndarray
    volume_of_slice: np.ndarray
    volumes: tuple[Volume, ...]

    @property
    def volume_labels(self) -> np.ndarray:
        return np.array([volume.label for volume in self.volumes], dtype=np.uint8)

    def pool(self, slice_scores: np.ndarray, rule: str) -> np.ndarray:
        """Per-volume scores (volumes, C) from per-slice scores (slices, C) by ``rule``."""
        return pool_groups(slice_scores, self.volume_of_slice, len(self.volumes), rule)


def load_slice_set(volumes: list[Volume], window: LungWindow, size: int) -> SliceSet:
    """Read every volume's slices; DataError naming a volume that cannot be read or has no slices."""
    arrays = [load_slices(volume, window, size) for volume in volumes]
    empty = [volume.path for volume, array in zip(volumes, arrays, strict=True) if array.shape[0] == 0]
    if empty:
        raise DataError(f"{empty[0]} has no slices.")
    counts = np.array([array.shape[0] for array in arrays])
    volume_of_slice = np.repeat(np.arange(len(volumes)), counts)
    labels = np.array([volume.label for volume in volumes], dtype=np.uint8)[volume_of_slice]
    return SliceSet(np.concatenate(arrays), labels, volume_of_slice, tuple(volumes))


class SliceBatches(keras.utils.PyDataset):
    """(images (b, size, size, 1) float32 in [0, 1], labels (b, 1) float32) batches of a SliceSet.

    Training batches are reshuffled each epoch from ``seed`` and the epoch's number, so a
    resumed run draws the same orders as an uninterrupted one; otherwise the order is the set's.
    """

    def __init__(
        self, slices: SliceSet, batch_size: int, *, shuffle: bool, seed: int = 0, epoch: int = 0
    ) -> None:
        super().__init__()
        self.slices = slices
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = epoch
        self.order = self._order()

    def _order(self) -> np.ndarray:
        count = self.slices.images.shape[0]
        if not self.shuffle:
            return np.arange(count)
        return np.random.default_rng([self.seed, self.epoch]).permutation(count)

    def __len__(self) -> int:
        return -(-self.slices.images.shape[0] // self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= index < len(self):
            # Plain iteration (validation) stops here.
            raise IndexError(index)
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        images = slices_from_uint8(self.slices.images[rows])
        return images, self.slices.labels[rows].astype(np.float32)[:, None]

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self.order = self._order()
