"""The registry of analysers: every model of the product, by kind, and the ones configured to run.

Each kind is one class of the one contract (``ml.analyser``), registered here by one line. Each has
its own card, weights directory (its card class's ``ENV_VAR``; unset: its seeded untrained network, which says
so) and ``trained`` flag, so an operator installs or replaces one without touching the others. The
pipeline (``ml.pipeline``) prepares every configured kind's input at intake and runs any kind on a
batch of prepared inputs; the service stores each result as it comes, with its card.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ml.analyser import RADIOGRAPH, Analyser, AnalyserCard, AnalyserInput, AnalyserResult
from ml.classifier.analyser import CLASSIFIER, Classifier
from ml.ct.analyser import CTAnalyser
from ml.engine.backend import resolve_backend
from ml.errors import WeightsError
from ml.screener.analyser import ScreenerAnalyser
from ml.segmentation.analyser import SegmentationAnalyser

logger = logging.getLogger(__name__)

# kind -> the analyser's class. Adding a model is one package and one line here.
REGISTRY: dict[str, type[Analyser]] = {
    analyser.kind: analyser for analyser in (Classifier, SegmentationAnalyser, ScreenerAnalyser, CTAnalyser)
}
# The analysers that run on a radiograph study after its findings (the classifier's) are stored.
BESIDE_THE_CLASSIFIER = tuple(
    kind for kind, analyser in REGISTRY.items() if kind != CLASSIFIER and analyser.reads == RADIOGRAPH
)


def analyser_class(kind: str) -> type[Analyser]:
    try:
        return REGISTRY[kind]
    except KeyError:
        raise ValueError(f"Unknown analyser {kind!r}; known: {', '.join(REGISTRY)}.") from None


@dataclass(frozen=True)
class AnalyserWeights:
    """Which analysers run, and where each finds its weights (a kind missing from ``directories``,
    or None: its untrained network). The classifier always runs."""

    kinds: tuple[str, ...] = (CLASSIFIER,)
    directories: Mapping[str, str | os.PathLike[str] | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for kind in (*self.kinds, *self.directories):
            analyser_class(kind)
        if CLASSIFIER not in self.kinds:
            object.__setattr__(self, "kinds", (CLASSIFIER, *self.kinds))

    @classmethod
    def from_env(cls, kinds: Sequence[str], environ: Mapping[str, str] | None = None) -> AnalyserWeights:
        """``kinds`` with each one's directory from its environment variable (unset or empty: untrained)."""
        directories = {kind: analyser_class(kind).card_type.weights_dir_from_env(environ) for kind in kinds}
        return cls(kinds=tuple(kinds), directories=directories)

    def directory(self, kind: str) -> str | os.PathLike[str] | None:
        return self.directories.get(kind)


class Analysers:
    """The configured analysers; each network is built once (``build`` or on first use) and then kept."""

    def __init__(
        self, weights: AnalyserWeights, *, threads: int | None = None, backend: str | None = None
    ) -> None:
        self._weights = weights
        self._threads = threads
        self._backend = backend
        self._built: dict[str, Any] = {}
        # Analysers built elsewhere and handed in (``adopt``): their card is the one they carry.
        self._adopted: set[str] = set()
        self._lock = threading.Lock()

    @property
    def kinds(self) -> tuple[str, ...]:
        return self._weights.kinds

    def reading(self, subject: str) -> tuple[str, ...]:
        """The configured kinds that read ``subject`` (``ml.analyser.RADIOGRAPH`` or ``CT_SERIES``)."""
        return tuple(kind for kind in self.kinds if analyser_class(kind).reads == subject)

    def card(self, kind: str) -> AnalyserCard:
        """The installed card of ``kind``, read without building its network (WeightsError if unusable)."""
        self._check(kind)
        if kind in self._adopted:
            return self._built[kind].card
        return analyser_class(kind).describe(self._weights.directory(kind))

    def input_key(self, kind: str) -> str:
        return self.card(kind).input_key

    def prepare(self, subject: str, thing: Any) -> tuple[dict[str, np.ndarray], dict[str, str]]:
        """Every configured input for ``thing`` (a radiograph or a CT series) and each one's input key.

        A kind whose weights directory is unusable gets no input: an upload is never refused for it,
        and its run fails with the reason (``built`` raises it); the classifier's own errors propagate.
        """
        inputs: dict[str, np.ndarray] = {}
        keys: dict[str, str] = {}
        for kind in self.reading(subject):
            try:
                card = self.card(kind)
            except WeightsError as error:
                if kind == CLASSIFIER:
                    raise
                logger.warning("No %s input prepared: %s", kind, error)
                continue
            inputs[kind] = analyser_class(kind).prepare(card, thing)
            keys[kind] = card.input_key
        return inputs, keys

    def run(self, kind: str, inputs: Sequence[AnalyserInput]) -> list[AnalyserResult]:
        """``kind``'s results for a batch of its prepared inputs, in order."""
        return list(self.built(kind).run(inputs)) if inputs else []

    def build(self, kinds: Sequence[str] | None = None) -> None:
        """Build these configured networks now (default: every one), so that no study waits for one.

        A worker calls it at start. On OpenVINO the networks the cache lacks are converted first,
        all in one child process (one TensorFlow import, not one per network). An analyser whose
        weights directory is unusable is left out with a warning: its runs fail with the reason.
        """
        kinds = self.kinds if kinds is None else tuple(kinds)
        if resolve_backend(self._backend) == "openvino":
            from ml.engine.compiled import convert_missing

            sources = []
            for kind in kinds:
                try:
                    source = analyser_class(kind).network_source(self._weights.directory(kind))
                except WeightsError as error:
                    logger.warning("The %s analyser is not loaded: %s", kind, error)
                    continue
                if source is not None:
                    sources.append(source)
            convert_missing(sources)
        for kind in kinds:
            try:
                self.built(kind)
            except WeightsError as error:
                logger.warning("The %s analyser is not loaded: %s", kind, error)

    def is_built(self, kind: str) -> bool:
        return kind in self._built

    def adopt(self, analyser: Any) -> None:
        """Use an analyser already built (a model just trained, a test's engine) for its kind."""
        self._check(analyser.kind)
        with self._lock:
            self._built[analyser.kind] = analyser
            self._adopted.add(analyser.kind)

    def built(self, kind: str) -> Any:
        self._check(kind)
        with self._lock:
            if kind not in self._built:
                self._built[kind] = analyser_class(kind).load(
                    self._weights.directory(kind), threads=self._threads, backend=self._backend
                )
            return self._built[kind]

    def _check(self, kind: str) -> None:
        if kind not in self.kinds:
            raise ValueError(f"The analyser {kind!r} is not configured here ({', '.join(self.kinds)}).")
