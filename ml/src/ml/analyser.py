"""The one analyser contract: every model of the product is described, fed and run the same way.

    card = Kind.describe(weights_dir)                 # cheap, no framework (any process)
    tensor = Kind.prepare(card, subject)              # the network's input (web process, no framework)
    analyser = Kind.load(weights_dir, threads=2)      # builds the network (the worker, once)
    results = analyser.run([AnalyserInput(tensor, width, height, view)])   # one typed result each

``subject`` is what the analyser ``reads``: a screened ``Radiograph`` or a ``CTSeries``. A result
says which card made it, answers ``to_dict()`` (JSON to store; ``read_result`` reads it back),
``score`` (what a worklist sorts by, or None) and ``attachment()`` (a file kept beside it: heatmaps,
masks). The registry (``ml.analysers``) maps each kind to its class, so the pipeline and the service
loop over kinds and never name a model.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, Self

import numpy as np

from ml.engine.source import NetworkSource

# What an analyser reads, and so which intake prepares its input.
RADIOGRAPH = "radiograph"
CT_SERIES = "ct-series"


class AnalyserCard(Protocol):
    """What every model card offers (each kind adds its own section)."""

    @property
    def kind(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def trained(self) -> bool: ...

    @property
    def input_key(self) -> str:
        """What shapes the card's input: an input made for another key is prepared again."""
        ...

    @property
    def cache_identity(self) -> str:
        """What names the model a result came from (the result cache's key)."""
        ...

    def to_dict(self) -> dict[str, Any]: ...


class AnalyserResult(Protocol):
    """One analyser's typed answer for one input."""

    @property
    def card(self) -> AnalyserCard: ...

    @property
    def score(self) -> float | None: ...

    def to_dict(self) -> dict[str, Any]: ...

    def attachment(self) -> bytes | None: ...


@dataclass(frozen=True)
class AnalyserInput:
    """One prepared input of a batch, with the size of the image it was made from and its view."""

    tensor: np.ndarray
    width: int
    height: int
    view_position: str | None = None


class Analyser(Protocol):
    """A built model of one kind, ready to run batches of its prepared inputs."""

    kind: ClassVar[str]
    reads: ClassVar[str]
    # The card's class (its ``ENV_VAR`` names the kind's weights directory; unset: the untrained
    # network) and the result's, each with ``from_dict`` (``read_result``).
    card_type: ClassVar[type[Any]]
    result_type: ClassVar[type[Any]]

    @property
    def card(self) -> AnalyserCard: ...

    @staticmethod
    def describe(weights_dir: str | os.PathLike[str] | None) -> AnalyserCard: ...

    @staticmethod
    def prepare(card: Any, subject: Any) -> np.ndarray: ...

    @classmethod
    def load(
        cls,
        weights_dir: str | os.PathLike[str] | None,
        *,
        threads: int | None = None,
        backend: str | None = None,
    ) -> Self: ...

    def run(self, inputs: Sequence[AnalyserInput]) -> Sequence[AnalyserResult]: ...

    @staticmethod
    def network_source(weights_dir: str | os.PathLike[str] | None) -> NetworkSource | None:
        """What ``ml.engine`` converts for this kind's network, or None where nothing is converted."""
        ...


def read_result(analyser: type[Analyser], data: dict[str, Any], card: dict[str, Any]) -> AnalyserResult:
    """A result as stored (``result.to_dict()`` and ``result.card.to_dict()``), typed again."""
    return analyser.result_type.from_dict(data, analyser.card_type.from_dict(card))
