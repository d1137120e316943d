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
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self

import numpy as np

from ml.engine.loading import load_network
from ml.engine.network import Network
from ml.engine.source import NetworkSource, weights_identity

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


class NetworkAnalyser:
    """What every analyser whose Keras network ``ml.engine`` runs shares: describing, the network's
    source for the engine, loading it, and which runtime computes it.

    A kind names its card class, the builder the engine calls (``"package.module:function"``,
    given the card's JSON and the weights directory) and what besides the weights its network's
    numbers depend on (``network_identity``); it adds ``prepare`` and ``run``.
    """

    card_type: ClassVar[type[Any]]
    builder: ClassVar[str]

    def __init__(self, card: Any, network: Network) -> None:
        self.card = card
        self._network = network

    @classmethod
    def describe(cls, weights_dir: str | os.PathLike[str] | None) -> Any:
        return cls.card_type.describe(weights_dir)

    @staticmethod
    def network_identity(card: Any) -> dict[str, Any]:
        """The card's settings the network's numbers depend on (its weights aside)."""
        raise NotImplementedError

    @classmethod
    def source_of(cls, card: Any, weights_dir: str | os.PathLike[str] | None) -> NetworkSource:
        """What the engine builds for ``card`` (as ``describe`` gave it: its weights' hash checked)."""
        return NetworkSource(
            builder=cls.builder,
            arguments={
                "card": card.to_dict(),
                "weights_dir": None if weights_dir is None else str(Path(weights_dir).expanduser().resolve()),
            },
            identity={
                "kind": card.kind,
                **cls.network_identity(card),
                **weights_identity(card.weights_sha256, card.version),
            },
        )

    @classmethod
    def network_source(cls, weights_dir: str | os.PathLike[str] | None) -> NetworkSource:
        """What the engine builds for ``weights_dir`` (``ml.engine.compiled.convert_missing`` takes it)."""
        return cls.source_of(cls.describe(weights_dir), weights_dir)

    @classmethod
    def load(
        cls,
        weights_dir: str | os.PathLike[str] | None,
        *,
        threads: int | None = None,
        backend: str | None = None,
    ) -> Self:
        """The network of ``weights_dir`` (None: the kind's seeded untrained one) on ``threads`` threads.

        ``backend`` overrides ``$CXR_BACKEND``. Raises WeightsError for a bad directory, card or
        weights file.
        """
        card = cls.describe(weights_dir)
        return cls(card, load_network(cls.source_of(card, weights_dir), threads=threads, backend=backend))

    @property
    def backend(self) -> str:
        """What computes the network: ``openvino-f32`` or ``keras-tensorflow``."""
        return self._network.name
