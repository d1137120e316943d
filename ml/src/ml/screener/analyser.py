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

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ml.analyser import RADIOGRAPH, AnalyserInput
from ml.engine.loading import load_network
from ml.engine.network import Network
from ml.engine.source import NetworkSource, weights_identity
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
    "screener_network_source",
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


def screener_network_source(card: ScreenerCard, weights_dir: str | os.PathLike[str] | None) -> NetworkSource:
    """What the engine builds for ``card`` and its weights (the card carries their verified hash)."""
    return NetworkSource(
        builder="ml.screener.network:keras_network",
        arguments={
            "card": card.to_dict(),
            "weights_dir": None if weights_dir is None else str(Path(weights_dir).expanduser().resolve()),
        },
        identity={
            "kind": card.kind,
            "architecture": card.architecture,
            "input_size": card.input_size,
            "input_channels": card.input_channels,
            **weights_identity(card.weights_sha256, card.version),
        },
    )


class ScreenerAnalyser:
    """A loaded screener: ``prepare`` radiographs, then ``run`` a batch of them in one pass."""

    kind: ClassVar[str] = SCREENER
    reads: ClassVar[str] = RADIOGRAPH
    card_type: ClassVar[type[ScreenerCard]] = ScreenerCard
    result_type: ClassVar[type[ScreenerResult]] = ScreenerResult

    def __init__(self, card: ScreenerCard, network: Network) -> None:
        self.card = card
        self._network = network

    @staticmethod
    def describe(weights_dir: str | os.PathLike[str] | None) -> ScreenerCard:
        return describe_screener_model(weights_dir)

    @staticmethod
    def prepare(card: ScreenerCard, subject: Radiograph) -> np.ndarray:
        """The screener's float32 (S, S, C) input for an already screened radiograph, as its card says."""
        return prepare_input(subject, card.spec, card.input_channels).tensor[0]

    @classmethod
    def load(
        cls,
        weights_dir: str | os.PathLike[str] | None,
        *,
        threads: int | None = None,
        backend: str | None = None,
    ) -> ScreenerAnalyser:
        """The screener of ``weights_dir`` (None: the seeded untrained InceptionV3) on ``threads`` threads.

        ``backend`` overrides ``$CXR_BACKEND``. Raises WeightsError for a bad directory, card or
        weights file.
        """
        card = describe_screener_model(weights_dir)
        network = load_network(screener_network_source(card, weights_dir), threads=threads, backend=backend)
        return cls(card, network)

    @staticmethod
    def network_source(weights_dir: str | os.PathLike[str] | None) -> NetworkSource:
        """What the engine builds for ``weights_dir`` (``ml.engine.compiled.convert_missing`` takes it)."""
        return screener_network_source(describe_screener_model(weights_dir), weights_dir)

    @property
    def backend(self) -> str:
        """What computes the network: ``openvino-f32`` or ``keras-tensorflow``."""
        return self._network.name

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
