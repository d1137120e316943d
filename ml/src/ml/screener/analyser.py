"""The screener as the service calls it: the card, the input tensor, the probability of abnormality.

``describe_screener_model`` and ``prepare`` never import TensorFlow, so the web process can
show the card and prepare inputs; ``ScreenerAnalyser.load`` builds the network through
``ml.engine`` inside the process that runs it: on a CPU, OpenVINO reads it converted from the
Keras network (``ml.screener.network``) and cached, so loading imports no TensorFlow.
Without weights it runs a seeded, untrained InceptionV3 and its card says so
(``trained: false``, version ending in ``-untrained-seed0``).

A result ranks and flags: ``likely_abnormal`` means "at or above the threshold chosen for
the target sensitivity"; a result below it is not a report that the study is normal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ml.analyser import RADIOGRAPH, AnalyserInput, NetworkAnalyser
from ml.images.preprocessing import prepare_input
from ml.images.radiograph import Radiograph
from ml.screener.card import (
    SCREENER_WEIGHTS_ENV_VAR,
    ScreenerCard,
    describe_screener_model,
)

SCREENER = "screener"

__all__ = [
    "SCREENER",
    "SCREENER_WEIGHTS_ENV_VAR",
    "ScreenerAnalyser",
    "ScreenerResult",
    "describe_screener_model",
]


@dataclass(frozen=True)
class ScreenerResult:
    """One radiograph's screening: P(abnormal), the card's threshold, and whether it reaches it."""

    card: ScreenerCard
    probability: float
    threshold: float
    likely_abnormal: bool

    @property
    def score(self) -> float:
        """The probability of an abnormality, which the worklist sorts by."""
        return self.probability

    def to_dict(self) -> dict[str, Any]:
        return {
            "probability": self.probability,
            "threshold": self.threshold,
            "likely_abnormal": self.likely_abnormal,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], card: ScreenerCard) -> ScreenerResult:
        return cls(
            card=card,
            probability=float(data["probability"]),
            threshold=float(data["threshold"]),
            likely_abnormal=bool(data["likely_abnormal"]),
        )

    def attachment(self) -> bytes | None:
        return None


class ScreenerAnalyser(NetworkAnalyser):
    """A loaded screener: ``prepare`` radiographs, then ``run`` a batch of them in one pass."""

    kind: ClassVar[str] = SCREENER
    reads: ClassVar[str] = RADIOGRAPH
    card_type: ClassVar[type[ScreenerCard]] = ScreenerCard
    result_type: ClassVar[type[ScreenerResult]] = ScreenerResult
    builder: ClassVar[str] = "ml.screener.network:keras_network"
    card: ScreenerCard

    @staticmethod
    def network_identity(card: ScreenerCard) -> dict[str, Any]:
        return {
            "architecture": card.architecture,
            "input_size": card.input_size,
            "input_channels": card.input_channels,
        }

    @staticmethod
    def prepare(card: ScreenerCard, subject: Radiograph) -> np.ndarray:
        """The screener's float32 (S, S, C) input for an already screened radiograph, as its card says."""
        return prepare_input(subject, card.spec, card.input_channels).tensor[0]

    def run(self, inputs: Sequence[AnalyserInput]) -> list[ScreenerResult]:
        """One result per prepared input, in order."""
        if not inputs:
            return []
        return self.score(np.stack([item.tensor for item in inputs]))

    def score(self, tensors: np.ndarray) -> list[ScreenerResult]:
        """One result per prepared input of a (N, S, S, C) batch, in order."""
        size, channels = self.card.input_size, self.card.input_channels
        tensors = np.asarray(tensors)
        if tensors.ndim != 4 or tensors.shape[1:] != (size, size, channels):
            raise ValueError(
                f"Expected a batch of shape (N, {size}, {size}, {channels}), got {tensors.shape}."
            )
        if tensors.shape[0] == 0:
            return []
        probabilities = np.asarray(self._network.run(tensors.astype(np.float32)), dtype=np.float64)[:, 0]
        threshold = self.card.threshold
        return [
            ScreenerResult(
                card=self.card,
                probability=float(p),
                threshold=threshold,
                likely_abnormal=bool(p >= threshold),
            )
            for p in probabilities
        ]
