"""The CT analyser the service calls: a series in, each slice's probability and the patient's out.

Each slice is windowed and resized as the card says and scored by the ResNet-18 (through
``ml.engine``: on a CPU, OpenVINO runs it converted from the Keras network of
``ml.ct.network`` and cached, so loading imports no TensorFlow); the
patient's probability pools the slices' by the card's ``aggregation`` (mean by default)
and is positive at or above the card's threshold. Without installed weights the network
is the seeded, untrained one and the card says so (``trained: false``, a version ending in
``-untrained-seed0``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ml.analyser import CT_SERIES, AnalyserInput, NetworkAnalyser
from ml.ct.card import CT_KIND, CT_WEIGHTS_ENV_VAR, CTModelCard, describe_ct_model
from ml.ct.series import CTSeries
from ml.ct.window import network_slices, network_slices_uint8, slices_from_uint8
from ml.evaluation.grouping import pool

DEFAULT_BATCH_SIZE = 16

__all__ = ["CT_WEIGHTS_ENV_VAR", "CTAnalyser", "CTResult", "describe_ct_model"]


@dataclass(frozen=True)
class CTResult:
    """One series' answer: every slice's probability (in slice order) and the patient's."""

    card: CTModelCard
    slice_probabilities: tuple[float, ...]
    patient_probability: float
    threshold: float
    positive: bool
    aggregation: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "slice_probabilities": list(self.slice_probabilities),
            "patient_probability": self.patient_probability,
            "threshold": self.threshold,
            "positive": self.positive,
            "aggregation": self.aggregation,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], card: CTModelCard) -> CTResult:
        return cls(
            card=card,
            slice_probabilities=tuple(float(value) for value in data["slice_probabilities"]),
            patient_probability=float(data["patient_probability"]),
            threshold=float(data["threshold"]),
            positive=bool(data["positive"]),
            aggregation=str(data["aggregation"]),
        )

    @property
    def score(self) -> float:
        """The patient's probability, which the worklist sorts by."""
        return self.patient_probability

    def attachment(self) -> bytes | None:
        # The per-slice strip is drawn on request from the slices' probabilities.
        return None


class CTAnalyser(NetworkAnalyser):
    """The ResNet-18 of a CT weights directory (or the untrained one), ready to score series."""

    kind: ClassVar[str] = CT_KIND
    reads: ClassVar[str] = CT_SERIES
    card_type: ClassVar[type[CTModelCard]] = CTModelCard
    result_type: ClassVar[type[CTResult]] = CTResult
    builder: ClassVar[str] = "ml.ct.network:keras_network"
    card: CTModelCard

    @staticmethod
    def network_identity(card: CTModelCard) -> dict[str, Any]:
        return {
            "architecture": card.architecture,
            "input_size": card.input_size,
            "base_filters": card.base_filters,
        }

    @staticmethod
    def prepare(card: CTModelCard, subject: CTSeries) -> np.ndarray:
        """Every slice windowed and resized for ``card``, as uint8 (slices, size, size): made at intake,
        so the worker only runs the network."""
        return network_slices_uint8(subject.hounsfield, card.window, card.input_size)

    def score_slices(self, hounsfield: np.ndarray, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """Each slice's probability, float64, for (slices, rows, columns) Hounsfield units."""
        return self._score_batches(
            hounsfield.shape[0],
            lambda start, stop: network_slices(
                hounsfield[start:stop], self.card.window, self.card.input_size
            ),
            batch_size,
        )

    def score_grey_levels(self, grey_levels: np.ndarray, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """Each slice's probability for slices already windowed and resized for this card, as
        uint8 (slices, input_size, input_size) (``ml.ct.window.network_slices_uint8``)."""
        size = self.card.input_size
        if grey_levels.dtype != np.uint8 or grey_levels.ndim != 3 or grey_levels.shape[1:] != (size, size):
            raise ValueError(
                f"Expected uint8 slices of {size}x{size}, got {grey_levels.dtype} {grey_levels.shape}."
            )
        return self._score_batches(
            grey_levels.shape[0], lambda start, stop: slices_from_uint8(grey_levels[start:stop]), batch_size
        )

    def score(self, series: CTSeries, batch_size: int = DEFAULT_BATCH_SIZE) -> CTResult:
        """The slices' and the patient's probabilities for one series, by the card's rule and threshold."""
        return self.result_of(self.score_slices(series.hounsfield, batch_size))

    def run(self, inputs: Sequence[AnalyserInput]) -> list[CTResult]:
        """Each prepared series' result (its tensor: ``prepare``'s uint8 slices)."""
        return [self.result_of(self.score_grey_levels(item.tensor)) for item in inputs]

    def result_of(self, slice_probabilities: np.ndarray) -> CTResult:
        """The patient's result from each slice's probability, by the card's rule and threshold."""
        patient = pool(slice_probabilities, self.card.aggregation)
        return CTResult(
            card=self.card,
            slice_probabilities=tuple(float(value) for value in slice_probabilities),
            patient_probability=patient,
            threshold=self.card.threshold,
            positive=patient >= self.card.threshold,
            aggregation=self.card.aggregation,
        )

    def _score_batches(
        self, count: int, batch_at: Callable[[int, int], np.ndarray], batch_size: int
    ) -> np.ndarray:
        probabilities = [
            np.asarray(self._network.run(batch_at(start, start + batch_size)), dtype=np.float64)[:, 0]
            for start in range(0, count, batch_size)
        ]
        return np.concatenate(probabilities)
