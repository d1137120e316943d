"""The anatomy segmentation analyser (one analyser contract, ``ml.analyser``), with the cardiothoracic ratio.

    card = SegmentationAnalyser.describe(weights_dir)     # cheap, no framework
    analyser = SegmentationAnalyser.load(weights_dir)     # builds the network (U-Net or PSPNet)
    inputs = [AnalyserInput(SegmentationAnalyser.prepare(card, r), r.width, r.height, view) ...]
    results = analyser.run(inputs)                        # masks, and the ratio where trained

The network runs through ``ml.engine``: on a CPU, OpenVINO reads it converted from the Keras
network (``ml.segmentation.network``) and cached, so loading imports no TensorFlow. Without
weights (``weights_dir`` None) it runs the seeded, untrained U-Net, and its card says so
(``trained`` false, a version ending in ``-untrained-seed0``); an untrained segmentation
measures no ratio, since its outlines are not anatomy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ml.analyser import RADIOGRAPH, AnalyserInput, NetworkAnalyser
from ml.images.radiograph import Radiograph
from ml.segmentation.card import (
    SEGMENTATION_WEIGHTS_ENV_VAR,
    SegmentationCard,
    describe_segmentation_model,
)
from ml.segmentation.cardiothoracic import (
    CardiothoracicRatio,
    measure_cardiothoracic_ratio,
    unmeasurable_reason,
)
from ml.segmentation.preprocessing import card_resize, network_input, resize_grey
from ml.segmentation.result import Segmentation

SEGMENTATION = "segmentation"
UNTRAINED_SEGMENTATION_NOTE = (
    "The segmentation model is untrained: its outlines are not anatomy, so no cardiothoracic ratio "
    "is measured."
)

__all__ = [
    "SEGMENTATION",
    "SEGMENTATION_WEIGHTS_ENV_VAR",
    "SegmentationAnalyser",
    "SegmentationResult",
    "describe_segmentation_model",
]


@dataclass(frozen=True)
class SegmentationResult:
    """One radiograph's structures, its cardiothoracic ratio (or the note saying why there is none),
    and the masks (``segmentation``: None for a result read back from its JSON, the masks being its
    attachment)."""

    card: SegmentationCard
    structures: tuple[str, ...]
    cardiothoracic_ratio: CardiothoracicRatio | None
    cardiothoracic_ratio_note: str | None
    segmentation: Segmentation | None

    @classmethod
    def of(cls, card: SegmentationCard, segmentation: Segmentation, view: str | None) -> SegmentationResult:
        """The result of ``segmentation``: the ratio is measured only where the card is trained."""
        ratio = measure_cardiothoracic_ratio(segmentation, view_position=view) if card.trained else None
        note = None
        if not card.trained:
            note = UNTRAINED_SEGMENTATION_NOTE
        elif ratio is None:
            reason = unmeasurable_reason(segmentation) or "the heart or the thorax has no width on any row"
            note = f"No cardiothoracic ratio is measured: {reason}."
        return cls(
            card=card,
            structures=segmentation.structures,
            cardiothoracic_ratio=ratio,
            cardiothoracic_ratio_note=note,
            segmentation=segmentation,
        )

    @property
    def score(self) -> float | None:
        """The cardiothoracic ratio, where one was measured."""
        return self.cardiothoracic_ratio.ratio if self.cardiothoracic_ratio is not None else None

    def to_dict(self) -> dict[str, Any]:
        ratio = self.cardiothoracic_ratio
        return {
            "structures": list(self.structures),
            "cardiothoracic_ratio": ratio.to_dict() if ratio is not None else None,
            "cardiothoracic_ratio_note": self.cardiothoracic_ratio_note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], card: SegmentationCard) -> SegmentationResult:
        ratio = data.get("cardiothoracic_ratio")
        return cls(
            card=card,
            structures=tuple(data["structures"]),
            cardiothoracic_ratio=CardiothoracicRatio.from_dict(ratio) if ratio is not None else None,
            cardiothoracic_ratio_note=data.get("cardiothoracic_ratio_note"),
            segmentation=None,
        )

    def attachment(self) -> bytes | None:
        return self.segmentation.to_bytes() if self.segmentation is not None else None


class SegmentationAnalyser(NetworkAnalyser):
    """A built segmentation network and its card."""

    kind: ClassVar[str] = SEGMENTATION
    reads: ClassVar[str] = RADIOGRAPH
    card_type: ClassVar[type[SegmentationCard]] = SegmentationCard
    result_type: ClassVar[type[SegmentationResult]] = SegmentationResult
    builder: ClassVar[str] = "ml.segmentation.network:keras_network"
    card: SegmentationCard

    @staticmethod
    def network_identity(card: SegmentationCard) -> dict[str, Any]:
        return {
            "architecture": card.architecture,
            "input_size": card.input_size,
            "outputs": len(card.structures),
        }

    @staticmethod
    def prepare(card: SegmentationCard, subject: Radiograph) -> np.ndarray:
        """The (S, S, 3) float32 input ``card``'s network takes for a screened radiograph; needs no
        network, so the web process prepares it when it takes an upload in."""
        resized = resize_grey(subject.pixels, card.input_size, card_resize(card.preprocessing))
        return network_input(resized, card.preprocessing)

    def run(self, inputs: Sequence[AnalyserInput]) -> list[SegmentationResult]:
        """Each input's masks, with its radiograph's ratio where the card is trained."""
        if not inputs:
            return []
        segmentations = self.segment(
            np.stack([item.tensor for item in inputs]), sizes=[(item.width, item.height) for item in inputs]
        )
        return [
            SegmentationResult.of(self.card, segmentation, item.view_position)
            for segmentation, item in zip(segmentations, inputs, strict=True)
        ]

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
