"""The analysers beside the classifier: anatomy segmentation (with the cardiothoracic ratio) and
the normal/abnormal screener.

Each has its own card, weights directory and ``trained`` flag, so an operator installs or replaces
one without touching the others; without installed weights each runs a seeded untrained network
and says so. They plug into the one pipeline (``ml.pipeline.Pipeline(analysers=...)``): its intake
prepares their inputs with the classifier's, and ``Pipeline.analyze_with(kind, images)`` answers
one analyser for a batch, as JSON-ready ``AnalyserOutcome``s a service can store as they are.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ml.abnormality.analyser import (
    SCREENER_WEIGHTS_ENV_VAR,
    AbnormalityScreener,
    describe_screener_model,
    prepare_screener_input,
)
from ml.engine.backend import resolve_backend
from ml.errors import WeightsError
from ml.images.radiograph import Radiograph
from ml.segmentation.analyser import (
    SEGMENTATION_WEIGHTS_ENV_VAR,
    SegmentationAnalyser,
    describe_segmentation_model,
    prepare_segmentation_input,
)
from ml.segmentation.cardiothoracic import measure_cardiothoracic_ratio, unmeasurable_reason
from ml.segmentation.result import Segmentation

logger = logging.getLogger(__name__)

SEGMENTATION = "segmentation"
SCREENER = "screener"
ANALYSER_KINDS = (SEGMENTATION, SCREENER)

UNTRAINED_SEGMENTATION_NOTE = (
    "The segmentation model is untrained: its outlines are not anatomy, so no cardiothoracic ratio "
    "is measured."
)


class AnalyserCard(Protocol):
    """What every analyser's card offers (each kind adds its own fields)."""

    kind: str
    name: str
    version: str
    trained: bool

    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class AnalyserWeights:
    """Which analysers run beside the classifier, and where each finds its weights (None: untrained)."""

    kinds: tuple[str, ...] = ANALYSER_KINDS
    segmentation: str | os.PathLike[str] | None = None
    screener: str | os.PathLike[str] | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.kinds) - set(ANALYSER_KINDS))
        if unknown:
            raise ValueError(f"Unknown analysers {', '.join(unknown)}; use {', '.join(ANALYSER_KINDS)}.")

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, kinds: Sequence[str] = ANALYSER_KINDS
    ) -> AnalyserWeights:
        environ = os.environ if environ is None else environ
        return cls(
            kinds=tuple(kinds),
            segmentation=environ.get(SEGMENTATION_WEIGHTS_ENV_VAR) or None,
            screener=environ.get(SCREENER_WEIGHTS_ENV_VAR) or None,
        )

    def directory(self, kind: str) -> str | os.PathLike[str] | None:
        return self.segmentation if kind == SEGMENTATION else self.screener


@dataclass(frozen=True)
class AnalyserOutcome:
    """One analyser's answer for one radiograph, ready to store.

    ``result`` is JSON; ``score`` is the number a worklist sorts by (the screener's probability of
    an abnormality, the cardiothoracic ratio), if any; ``attachment`` is a file to keep beside it
    (the segmentation's masks, ``ml.segmentation`` reads them back).
    """

    kind: str
    card: dict[str, Any]
    result: dict[str, Any]
    score: float | None
    attachment: bytes | None = None


class Analysers:
    """The configured analysers; each network is built on its first use and then kept."""

    def __init__(self, weights: AnalyserWeights, *, threads: int | None = None) -> None:
        self._weights = weights
        self._threads = threads
        self._built: dict[str, SegmentationAnalyser | AbnormalityScreener] = {}
        self._lock = threading.Lock()

    @property
    def kinds(self) -> tuple[str, ...]:
        return self._weights.kinds

    def card(self, kind: str) -> AnalyserCard:
        """The installed card of ``kind``, read without building its network."""
        self._check(kind)
        directory = self._weights.directory(kind)
        if kind == SEGMENTATION:
            return describe_segmentation_model(directory)
        return describe_screener_model(directory)

    def input_key(self, kind: str) -> str:
        """Identifies the card an input was prepared for: another card's inputs are prepared again.

        Raises WeightsError when the analyser's weights directory is unusable.
        """
        card = self.card(kind).to_dict()
        card.pop("validation", None)
        return hashlib.sha256(json.dumps(card, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def prepare(self, radiograph: Radiograph) -> dict[str, np.ndarray]:
        """Every configured analyser's input for a screened radiograph (no network needed).

        An analyser whose weights directory is unusable gets no input: an upload is never refused
        for it, and its run fails with the reason (``run`` raises it).
        """
        inputs: dict[str, np.ndarray] = {}
        for kind in self.kinds:
            try:
                card = self.card(kind)
            except WeightsError as error:
                logger.warning("No %s input prepared: %s", kind, error)
                continue
            if kind == SEGMENTATION:
                inputs[kind] = prepare_segmentation_input(card, radiograph)
            else:
                inputs[kind] = prepare_screener_input(card, radiograph)
        return inputs

    def run(
        self,
        kind: str,
        inputs: Sequence[np.ndarray],
        *,
        sizes: Sequence[tuple[int, int]],
        views: Sequence[str | None],
    ) -> list[AnalyserOutcome]:
        """``kind``'s outcomes for a batch of its inputs, with each radiograph's size and view."""
        analyser = self._analyser(kind)
        card = analyser.card
        batch = np.stack(inputs)
        if isinstance(analyser, SegmentationAnalyser):
            segmentations = analyser.segment(batch, sizes=list(sizes))
            return [
                segmentation_outcome(card, segmentation, view)
                for segmentation, view in zip(segmentations, views, strict=True)
            ]
        return [
            AnalyserOutcome(
                kind=SCREENER, card=card.to_dict(), result=result.to_dict(), score=result.probability
            )
            for result in analyser.score(batch)
        ]

    def load_all(self) -> None:
        """Build every configured analyser now (a worker's start) rather than on its first study.

        On OpenVINO the networks the cache lacks are converted first, all in one child process
        (one TensorFlow import, not one per network). An analyser whose weights directory is
        unusable is left out with a warning: its runs fail with the reason, as before.
        """
        if resolve_backend() == "openvino":
            from ml.engine.compiled import convert_missing

            sources = []
            for kind in self.kinds:
                try:
                    sources.append(_analyser_class(kind).network_source(self._weights.directory(kind)))
                except WeightsError as error:
                    logger.warning("The %s analyser is not loaded: %s", kind, error)
            convert_missing(sources)
        for kind in self.kinds:
            try:
                self._analyser(kind)
            except WeightsError as error:
                logger.warning("The %s analyser is not loaded: %s", kind, error)

    def _analyser(self, kind: str) -> SegmentationAnalyser | AbnormalityScreener:
        self._check(kind)
        with self._lock:
            if kind not in self._built:
                directory = self._weights.directory(kind)
                self._built[kind] = _analyser_class(kind).load(directory, threads=self._threads)
            return self._built[kind]

    def _check(self, kind: str) -> None:
        if kind not in self.kinds:
            raise ValueError(
                f"The analyser {kind!r} is not configured here ({', '.join(self.kinds) or 'none'})."
            )


def _analyser_class(kind: str) -> type[SegmentationAnalyser] | type[AbnormalityScreener]:
    return SegmentationAnalyser if kind == SEGMENTATION else AbnormalityScreener


def segmentation_outcome(card: AnalyserCard, segmentation: Segmentation, view: str | None) -> AnalyserOutcome:
    ratio = measure_cardiothoracic_ratio(segmentation, view_position=view) if card.trained else None
    note = None
    if not card.trained:
        note = UNTRAINED_SEGMENTATION_NOTE
    elif ratio is None:
        reason = unmeasurable_reason(segmentation) or "the heart or the thorax has no width on any row"
        note = f"No cardiothoracic ratio is measured: {reason}."
    return AnalyserOutcome(
        kind=SEGMENTATION,
        card=card.to_dict(),
        result={
            "structures": list(segmentation.structures),
            "cardiothoracic_ratio": ratio.to_dict() if ratio is not None else None,
            "cardiothoracic_ratio_note": note,
        },
        score=ratio.ratio if ratio is not None else None,
        attachment=segmentation.to_bytes(),
    )
