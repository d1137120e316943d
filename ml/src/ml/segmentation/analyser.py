"""The anatomy segmentation analyser the service's worker runs, beside the classifier.

    card = describe_segmentation_model(weights_dir)     # cheap, no framework
    analyser = SegmentationAnalyser.load(weights_dir)   # builds the network (U-Net or PSPNet)
    tensors = [analyser.prepare(radiograph) for radiograph in radiographs]
    segmentations = analyser.segment(np.stack(tensors), sizes=[(r.width, r.height) for r in radiographs])

Without weights (``weights_dir`` None) it runs the seeded, untrained U-Net, and its card
says so (``trained`` false, a version ending in ``-untrained-seed0``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ml.images.radiograph import Radiograph
from ml.segmentation.card import (
    SEGMENTATION_WEIGHTS_ENV_VAR,
    SegmentationCard,
    describe_segmentation_model,
)
from ml.segmentation.preprocessing import network_input, resize_grey
from ml.segmentation.result import Segmentation

__all__ = [
    "SEGMENTATION_WEIGHTS_ENV_VAR",
    "SegmentationAnalyser",
    "describe_segmentation_model",
    "prepare_segmentation_input",
]


def prepare_segmentation_input(card: SegmentationCard, radiograph: Radiograph) -> np.ndarray:
    """The (S, S, 3) float32 input ``card``'s network takes for a screened radiograph; needs no network,
    so the web process prepares it when it takes an upload in."""
    return network_input(resize_grey(radiograph.pixels, card.input_size), card.preprocessing)


class SegmentationAnalyser:
    """A built segmentation network and its card."""

    def __init__(self, model: object, card: SegmentationCard) -> None:
        self._model = model
        self.card = card
        import tensorflow as tf

        side = card.input_size
        # One trace per process for any batch size.
        self._forward = tf.function(
            lambda images: model(images, training=False),
            input_signature=[tf.TensorSpec((None, side, side, 3), tf.float32)],
        )

    @classmethod
    def load(
        cls, weights_dir: str | os.PathLike[str] | None, threads: int | None = None
    ) -> SegmentationAnalyser:
        """Build the network of ``weights_dir``'s card (the untrained U-Net for None) on ``threads`` threads.

        Raises WeightsError for anything wrong with the directory.
        """
        card = describe_segmentation_model(weights_dir)
        from ml.inference.engine import configure_threads

        configure_threads(threads)
        from ml.segmentation.network import load_network

        return cls(load_network(card, weights_dir), card)

    def prepare(self, radiograph: Radiograph) -> np.ndarray:
        """The network's (S, S, 3) float32 input for a screened radiograph."""
        return prepare_segmentation_input(self.card, radiograph)

    def segment(self, tensors: np.ndarray, sizes: Sequence[tuple[int, int]]) -> list[Segmentation]:
        """Segment one batch of prepared inputs; ``sizes`` are the radiographs' (width, height)."""
        side = self.card.input_size
        tensors = np.asarray(tensors, dtype=np.float32)
        if tensors.ndim != 4 or tensors.shape[1:] != (side, side, 3):
            raise ValueError(
                f"Expected prepared inputs of shape (n, {side}, {side}, 3), not {tensors.shape}."
            )
        if len(sizes) != len(tensors):
            raise ValueError(f"{len(tensors)} inputs but {len(sizes)} sizes.")
        logits = np.asarray(self._forward(tensors))
        # sigmoid(logit) >= threshold, without computing the sigmoid.
        cut = float(np.log(self.card.threshold / (1.0 - self.card.threshold)))
        return [
            Segmentation(
                structures=self.card.structures, masks=image_logits >= cut, width=width, height=height
            )
            for image_logits, (width, height) in zip(logits, sizes, strict=True)
        ]
