"""The 14-finding DenseNet121 classifier through the one analyser contract (``ml.analyser``).

Its result is the findings (probability, threshold, positive, calibrated score per label) and their
Grad-CAM heatmaps, from one forward pass of the inference engine (``ml.classifier.engine``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ml.analyser import RADIOGRAPH, AnalyserInput
from ml.classifier.card import ModelCard
from ml.classifier.explanations.heatmaps import Heatmaps
from ml.classifier.postprocess import Finding, findings_from_probabilities
from ml.classifier.registry import describe_active_model
from ml.images.preprocessing import PreprocessingSpec, centre_square_crop, prepare_input
from ml.images.radiograph import Radiograph

CLASSIFIER = "classifier"


@dataclass(frozen=True)
class ClassifierResult:
    """What the model says about one radiograph, and which card said it.

    ``heatmaps`` is None for a result read back from its JSON (``from_dict``): the maps are its
    attachment, stored beside it.
    """

    card: ModelCard
    findings: tuple[Finding, ...]
    heatmaps: Heatmaps | None

    @property
    def probabilities(self) -> dict[str, float]:
        return {finding.label: finding.probability for finding in self.findings}

    @property
    def score(self) -> float | None:
        """The most suspicious finding's calibrated score (every threshold maps to 0.5)."""
        return max((finding.calibrated_score for finding in self.findings), default=None)

    def to_dict(self) -> dict[str, Any]:
        return {"findings": [finding.to_dict() for finding in self.findings]}

    @classmethod
    def from_dict(cls, data: dict[str, Any], card: ModelCard) -> ClassifierResult:
        return cls(
            card=card, findings=tuple(Finding(**finding) for finding in data["findings"]), heatmaps=None
        )

    def attachment(self) -> bytes | None:
        return self.heatmaps.to_bytes() if self.heatmaps is not None else None


class Classifier:
    """A built DenseNet121 (its inference engine) answering findings and heatmaps for a batch."""

    kind: ClassVar[str] = CLASSIFIER
    reads: ClassVar[str] = RADIOGRAPH
    card_type: ClassVar[type[ModelCard]] = ModelCard
    result_type: ClassVar[type[ClassifierResult]] = ClassifierResult

    def __init__(self, engine: Any) -> None:
        # ml.classifier.engine.InferenceEngine; not imported here, so describing needs no runtime.
        self.engine = engine

    @property
    def card(self) -> ModelCard:
        """The engine's card: the described one, plus the untrained weights' hash and the form in use."""
        return self.engine.card

    @staticmethod
    def describe(weights_dir: str | os.PathLike[str] | None) -> ModelCard:
        return describe_active_model(weights_dir)

    @staticmethod
    def prepare(card: ModelCard, subject: Radiograph) -> np.ndarray:
        """The (size, size, channels) float32 input: the centre square resized and scaled by the card."""
        return prepare_input(
            subject, PreprocessingSpec.from_dict(card.preprocessing), card.input_channels
        ).tensor[0]

    @classmethod
    def load(
        cls,
        weights_dir: str | os.PathLike[str] | None,
        *,
        threads: int | None = None,
        backend: str | None = None,
    ) -> Classifier:
        from ml.classifier.engine import InferenceEngine

        return cls(InferenceEngine.load(weights_dir, threads=threads, backend=backend))

    @staticmethod
    def network_source(weights_dir: str | os.PathLike[str] | None) -> None:
        """Nothing to convert: the engine builds DenseNet121's graph straight from its arrays."""
        return None

    def run(self, inputs: Sequence[AnalyserInput]) -> list[ClassifierResult]:
        if not inputs:
            return []
        probabilities, maps = self.engine.explain(np.stack([item.tensor for item in inputs]))
        card = self.card
        return [
            ClassifierResult(
                card=card,
                findings=findings_from_probabilities(probabilities[index], card),
                heatmaps=Heatmaps(
                    labels=card.labels,
                    maps=maps[index],
                    crop=centre_square_crop(item.width, item.height),
                    width=item.width,
                    height=item.height,
                ),
            )
            for index, item in enumerate(inputs)
        ]
