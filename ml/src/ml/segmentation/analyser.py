"""The anatomy segmentation analyser the service's worker runs, beside the classifier.

    card = describe_segmentation_model(weights_dir)     # cheap, no framework
    analyser = SegmentationAnalyser.load(weights_dir)   # the network (U-Net or PSPNet) on the engine
    tensors = [analyser.prepare(radiograph) for radiograph in radiographs]
    segmentations = analyser.segment(np.stack(tensors), sizes=[(r.width, r.height) for r in radiographs])

The network runs through ``ml.engine``: on a CPU, OpenVINO reads it converted from the Keras
network (``ml.segmentation.network``) and cached, so loading imports no TensorFlow. Without
weights (``weights_dir`` None) it runs the seeded, untrained U-Net, and its card says so
(``trained`` false, a version ending in ``-untrained-seed0``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ml.engine.loading import load_network
from ml.engine.network import Network
from ml.engine.source import NetworkSource, weights_identity
from ml.images.radiograph import Radiograph
from ml.segmentation.card import (
    SEGMENTATION_WEIGHTS_ENV_VAR,
    SegmentationCard,
    describe_segmentation_model,
    segmentation_weights_dir_from_env,
)
from ml.segmentation.preprocessing import card_resize, network_input, resize_grey
from ml.segmentation.result import Segmentation

__all__ = [
    "SEGMENTATION_WEIGHTS_ENV_VAR",
    "SegmentationAnalyser",
    "describe_segmentation_model",
    "prepare_segmentation_input",
    "segmentation_network_source",
    "segmentation_weights_dir_from_env",
]


def prepare_segmentation_input(card: SegmentationCard, radiograph: Radiograph) -> np.ndarray:
    """The (S, S, 3) float32 input ``card``'s network takes for a screened radiograph; needs no network,
    so the web process prepares it when it takes an upload in."""
    resized = resize_grey(radiograph.pixels, card.input_size, card_resize(card.preprocessing))
    return network_input(resized, card.preprocessing)


def segmentation_network_source(
    card: SegmentationCard, weights_dir: str | os.PathLike[str] | None
) -> NetworkSource:
    """What the engine builds for ``card`` (as ``describe_segmentation_model`` gave it) and its weights."""
    return NetworkSource(
        builder="ml.segmentation.network:keras_network",
        arguments={
            "card": card.to_dict(),
            "weights_dir": None if weights_dir is None else str(Path(weights_dir).expanduser().resolve()),
        },
        identity={
            "kind": card.kind,
            "architecture": card.architecture,
            "input_size": card.input_size,
            "outputs": len(card.structures),
            **weights_identity(card.weights_sha256, card.version),
        },
    )


class SegmentationAnalyser:
    """A built segmentation network and its card."""

    def __init__(self, network: Network, card: SegmentationCard) -> None:
        self._network = network
        self.card = card

    @classmethod
    def load(
        cls,
        weights_dir: str | os.PathLike[str] | None,
        threads: int | None = None,
        *,
        backend: str | None = None,
    ) -> SegmentationAnalyser:
        """The network of ``weights_dir``'s card (the untrained U-Net for None) on ``threads`` threads.

        ``backend`` overrides ``$CXR_BACKEND``. Raises WeightsError for anything wrong with the directory.
        """
        card = describe_segmentation_model(weights_dir)
        network = load_network(
            segmentation_network_source(card, weights_dir), threads=threads, backend=backend
        )
        return cls(network, card)

    @staticmethod
    def network_source(weights_dir: str | os.PathLike[str] | None) -> NetworkSource:
        """What the engine builds for ``weights_dir`` (``ml.engine.compiled.convert_missing`` takes it)."""
        return segmentation_network_source(describe_segmentation_model(weights_dir), weights_dir)

    @property
    def backend(self) -> str:
        """What computes the network: ``openvino-f32`` or ``keras-tensorflow``."""
        return self._network.name

    def prepare(self, radiograph: Radiograph) -> np.ndarray:
        """The network's (S, S, 3) float32 input for a screened radiograph."""
        return prepare_segmentation_input(self.card, radiograph)

    def logits(self, tensors: np.ndarray) -> np.ndarray:
        """The network's (n, S, S, structures) logits for a batch of prepared inputs."""
        side = self.card.input_size
        tensors = np.asarray(tensors, dtype=np.float32)
        if tensors.ndim != 4 or tensors.shape[1:] != (side, side, 3):
            raise ValueError(
                f"Expected prepared inputs of shape (n, {side}, {side}, 3), not {tensors.shape}."
            )
        return self._network.run(tensors)

    def segment(self, tensors: np.ndarray, sizes: Sequence[tuple[int, int]]) -> list[Segmentation]:
        """Segment one batch of prepared inputs; ``sizes`` are the radiographs' (width, height)."""
        if len(sizes) != len(tensors):
            raise ValueError(f"{len(tensors)} inputs but {len(sizes)} sizes.")
        logits = self.logits(tensors)
        # sigmoid(logit) >= threshold, without computing the sigmoid.
        cut = float(np.log(self.card.threshold / (1.0 - self.card.threshold)))
        return [
            Segmentation(
                structures=self.card.structures, masks=image_logits >= cut, width=width, height=height
            )
            for image_logits, (width, height) in zip(logits, sizes, strict=True)
        ]
