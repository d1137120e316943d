"""The screener as the service calls it: the card, the input tensor, the probability of abnormality.

``describe_screener_model`` and ``prepare`` never import TensorFlow, so the web process can
show the card and prepare inputs; ``AbnormalityScreener.load`` builds the Keras network (on
TensorFlow: the screener's only runtime) inside the process that runs it. Without weights
it runs a seeded, untrained InceptionV3 and its card says so (``trained: false``, version
ending in ``-untrained-seed0``).

A result ranks and flags: ``likely_abnormal`` means "at or above the threshold chosen for
the target sensitivity"; a result below it is not a report that the study is normal.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ml.abnormality.card import (
    SCREENER_WEIGHTS_ENV_VAR,
    UNTRAINED_SEED,
    ScreenerCard,
    describe_screener_model,
)
from ml.images.radiograph import Radiograph
from ml.inference.preprocessing import prepare_input
from ml.weights.registry import WEIGHTS_FILENAME

if TYPE_CHECKING:
    import keras

__all__ = [
    "SCREENER_WEIGHTS_ENV_VAR",
    "AbnormalityScreener",
    "ScreenerResult",
    "describe_screener_model",
    "prepare_screener_input",
]


@dataclass(frozen=True)
class ScreenerResult:
    """One radiograph's screening: P(abnormal), the card's threshold, and whether it reaches it."""

    probability: float
    threshold: float
    likely_abnormal: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def prepare_screener_input(card: ScreenerCard, radiograph: Radiograph) -> np.ndarray:
    """The screener's float32 (S, S, C) input for an already screened radiograph, as its card says."""
    return prepare_input(radiograph, card.spec, card.input_channels).tensor[0]


class AbnormalityScreener:
    """A loaded screener: ``prepare`` radiographs, then ``score`` a batch of them in one pass."""

    def __init__(self, card: ScreenerCard, model: keras.Model) -> None:
        from ml.training.monitoring import predictor

        self.card = card
        self._forward = predictor(model)

    @classmethod
    def load(
        cls, weights_dir: str | os.PathLike[str] | None, threads: int | None = None
    ) -> AbnormalityScreener:
        """Build the screener ``weights_dir`` holds (None: the seeded untrained InceptionV3).

        ``threads`` sets TensorFlow's intra-op threads if TensorFlow has not started yet.
        Raises WeightsError for a bad directory, card or weights file.
        """
        card = describe_screener_model(weights_dir)
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        from ml.abnormality.architectures import build_screener, seed_weights
        from ml.inference.runtime_keras import configure_threads
        from ml.weights.directory import load_weights_file

        if threads is not None:
            configure_threads(threads)
        model = build_screener(card.architecture, card.input_size, card.input_channels)
        if weights_dir is None:
            seed_weights(model, UNTRAINED_SEED)
        else:
            directory = Path(weights_dir).expanduser()
            load_weights_file(model, directory / WEIGHTS_FILENAME)
        return cls(card, model)

    def prepare(self, radiograph: Radiograph) -> np.ndarray:
        """The network's float32 (S, S, C) input for an already screened radiograph."""
        return prepare_screener_input(self.card, radiograph)

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
        probabilities = np.asarray(self._forward(tensors.astype(np.float32)), dtype=np.float64)[:, 0]
        threshold = self.card.threshold
        return [
            ScreenerResult(probability=float(p), threshold=threshold, likely_abnormal=bool(p >= threshold))
            for p in probabilities
        ]
