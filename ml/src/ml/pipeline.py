"""The one analysis pipeline: a file's bytes in, findings and heatmaps out.

Every caller goes through ``Pipeline``: the web process (``intake``, to refuse a bad file at
once and keep only what may be kept), the worker (``analyze``, on what the intake prepared), the
CLI's ``predict``, ``evaluate`` and ``localize``, and ``make bench``. So one file gives one
answer everywhere: the same decoding, screening and grey-scale correction, the same
preprocessing, the same thresholds and calibrated scores.

    pipeline = Pipeline(weights_dir)            # cheap: reads the card, builds nothing
    intake = pipeline.intake(data)              # decode, screen, de-identify, prepare (no model)
    [result] = pipeline.analyze([intake.prepared])   # forward pass, postprocess, explanations
    result = pipeline(data)                     # both at once

With ``analysers=AnalyserWeights(...)`` the intake also prepares the inputs of the analysers beside
the classifier (anatomy segmentation, the normal/abnormal screener: ``ml.analysers``), and
``analyze_with(kind, images)`` runs one of them on a batch.

A chest CT series is a study too: ``intake_ct(data)`` reads, de-identifies and prepares it
(``ml.ct.intake``; ``is_ct_series`` routes an upload), and ``analyze_ct(prepared)`` scores each slice
and pools them for the patient with the CT analyser (``ct_weights``; untrained when None).

``intake`` never imports TensorFlow or OpenVINO; the network is built on the first ``analyze``,
once per pipeline (build the pipeline inside each worker process, after it forks).
"""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ml.analysers import AnalyserOutcome, Analysers, AnalyserWeights
from ml.ct.analyser import CTAnalyser, CTResult
from ml.ct.card import CTModelCard, describe_ct_model
from ml.ct.intake import CTIntake, PreparedCT, take_in_ct
from ml.explanations.explanation import Explanation, explain
from ml.explanations.heatmaps import Heatmaps
from ml.images.decoding import decode_radiograph, image_format
from ml.images.deidentification import clean_copy, words_of
from ml.images.dicom import deidentified_copy, identifying_values, is_lateral_view, read_dataset
from ml.images.radiograph import Radiograph
from ml.images.rendering import radiograph_png
from ml.images.screening import Screening, screen_radiograph
from ml.inference.postprocess import Finding, findings_from_probabilities
from ml.inference.preprocessing import (
    CropBox,
    PreprocessingSpec,
    frame_from_array,
    frame_to_array,
    prepare_input,
)
from ml.weights.card import ModelCard
from ml.weights.registry import describe_active_model

if TYPE_CHECKING:
    from ml.inference.engine import InferenceEngine


# The prefix of an analyser's input in a prepared image's npz file.
ANALYSER_INPUT = "input_of_"


@dataclass(frozen=True)
class PreparedImage:
    """The network's input for one radiograph, with what is needed to place its heatmaps.

    ``preprocessing`` identifies the card settings the tensor was made with, so an input
    prepared for one model is never fed to another. ``analyser_inputs`` hold the other analysers'
    inputs by kind, each with the key of the card it was prepared for (``analyser_keys``);
    ``view_position`` (PA, AP, or None when the file does not say) qualifies a measurement.
    """

    tensor: np.ndarray
    crop: CropBox
    width: int
    height: int
    preprocessing: str
    view_position: str | None = None
    analyser_inputs: Mapping[str, np.ndarray] = field(default_factory=dict)
    analyser_keys: Mapping[str, str] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        analysers = {
            f"{ANALYSER_INPUT}{kind}": tensor.astype(np.float32)
            for kind, tensor in self.analyser_inputs.items()
        }
        np.savez(
            buffer,
            tensor=self.tensor.astype(np.float32),
            frame=frame_to_array(self.crop, self.width, self.height),
            preprocessing=np.array(self.preprocessing),
            view_position=np.array(self.view_position or ""),
            analyser_keys=np.array(json.dumps(dict(self.analyser_keys))),
            **analysers,
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> PreparedImage:
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            crop, width, height = frame_from_array(stored["frame"])
            # Inputs prepared before the other analysers existed have none of their fields.
            names = set(stored.files)
            return cls(
                tensor=stored["tensor"].astype(np.float32),
                crop=crop,
                width=width,
                height=height,
                preprocessing=str(stored["preprocessing"]),
                view_position=str(stored["view_position"]) or None if "view_position" in names else None,
                analyser_inputs={
                    name.removeprefix(ANALYSER_INPUT): stored[name].astype(np.float32)
                    for name in names
                    if name.startswith(ANALYSER_INPUT)
                },
                analyser_keys=json.loads(str(stored["analyser_keys"])) if "analyser_keys" in names else {},
            )


@dataclass(frozen=True)
class Intake:
    """An accepted radiograph: what the screening made of it, what may be stored, the model input.

    ``format`` is ``png``, ``jpeg`` or ``dicom``; ``stored_bytes`` is the only form in which the
    file may be kept (a DICOM file de-identified by allow-list, a PNG or JPEG file without its
    metadata, pixels bit-identical). ``identifying_words`` are the lower-case words of what was
    left out (a DICOM file's identifiers, a PNG or JPEG file's metadata text): whatever else is
    kept of the upload, such as its file name, must not repeat them.
    ``screening`` is None where a caller switched the screening off (research data sets of
    small or synthetic images), and for a lateral view taken in with ``accept_lateral``.
    """

    format: str
    radiograph: Radiograph
    screening: Screening | None
    stored_bytes: bytes
    prepared: PreparedImage
    identifying_words: frozenset[str]

    @property
    def lateral(self) -> bool:
        """Whether the file says it is a lateral view: kept and shown, never analysed."""
        return is_lateral_view(self.radiograph.metadata.view_position)

    def display_png(self) -> bytes:
        """The screened radiograph (grey scale corrected if it had to be) as an 8-bit PNG."""
        return radiograph_png(self.radiograph)


@dataclass(frozen=True)
class Result:
    """What the model says about one radiograph, and which card said it."""

    card: ModelCard
    findings: tuple[Finding, ...]
    heatmaps: Heatmaps

    @property
    def probabilities(self) -> dict[str, float]:
        return {finding.label: finding.probability for finding in self.findings}


class Pipeline:
    """Intake and analysis of radiographs for the model in ``weights_dir`` (None: untrained).

    ``threads`` and ``backend`` are passed to the inference engine when it is built.
    ``analysers`` adds the analysers beside the classifier (``ml.analysers``); ``ct_weights`` is the
    CT analyser's weights directory (None: its seeded untrained network).
    """

    def __init__(
        self,
        weights_dir: str | os.PathLike[str] | None = None,
        *,
        threads: int | None = None,
        backend: str | None = None,
        analysers: AnalyserWeights | None = None,
        ct_weights: str | os.PathLike[str] | None = None,
    ) -> None:
        self._weights_dir = weights_dir
        self._threads = threads
        self._backend = backend
        self._engine: InferenceEngine | None = None
        self._engine_lock = threading.Lock()
        self.analysers = Analysers(analysers, threads=threads) if analysers is not None else None
        self._ct_weights = ct_weights
        self._ct_analyser: CTAnalyser | None = None
        self._ct_lock = threading.Lock()

    @classmethod
    def for_engine(cls, engine: InferenceEngine) -> Pipeline:
        """A pipeline around an engine already built (tests, benchmarks, a model just trained)."""
        pipeline = cls()
        pipeline._engine = engine
        return pipeline

    @property
    def card(self) -> ModelCard:
        """The installed model's card, read without building the network.

        The results' card (``Result.card``, the engine's) adds the untrained weights' hash,
        which only exists once the arrays are drawn.
        """
        if self._weights_dir is None and self._engine is not None:
            return self._engine.card
        return describe_active_model(self._weights_dir)

    @property
    def engine_built(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> InferenceEngine:
        """The inference engine, built on first use and then kept."""
        with self._engine_lock:
            if self._engine is None:
                from ml.inference.engine import InferenceEngine

                self._engine = InferenceEngine.load(
                    self._weights_dir, threads=self._threads, backend=self._backend
                )
            return self._engine

    @property
    def preprocessing_key(self) -> str:
        return preprocessing_key(self.card)

    def intake(self, data: bytes, *, screen: bool = True, accept_lateral: bool = False) -> Intake:
        """Decode, screen, de-identify and prepare one file; raise ml.errors.ImageError if it is refused.

        ``screen=False`` skips the input screening (and so its grey-scale correction): the file is
        then answered as the network sees it, which the service never does. Evaluation offers it
        for research data sets the screening was not made for, and says so in its report.
        ``accept_lateral=True`` takes in a DICOM lateral view instead of refusing it, for a study
        that holds a frontal image too: it is de-identified but not screened (the screening knows
        frontal views only), and ``intake.lateral`` says the analysers must not read it.
        """
        radiograph = decode_radiograph(data, accept_lateral=accept_lateral)
        screening = None
        if screen and not is_lateral_view(radiograph.metadata.view_position):
            radiograph, screening = screen_radiograph(radiograph)
        file_format = image_format(data)
        if file_format == "dicom":
            # One reading of the file serves both the stored copy and the words it left out.
            dataset = read_dataset(data)
            stored, identifying = deidentified_copy(dataset), words_of(*identifying_values(dataset))
        else:
            clean = clean_copy(data, file_format)
            stored, identifying = clean.data, clean.removed_words
        return Intake(
            format=file_format,
            radiograph=radiograph,
            screening=screening,
            stored_bytes=stored,
            prepared=self.prepare(radiograph),
            identifying_words=identifying,
        )

    def prepare(self, radiograph: Radiograph) -> PreparedImage:
        """The network's input for an already screened radiograph."""
        card = self.card
        model_input = prepare_input(
            radiograph, PreprocessingSpec.from_dict(card.preprocessing), card.input_channels
        )
        analysers = self.analysers
        inputs = analysers.prepare(radiograph) if analysers is not None else {}
        return PreparedImage(
            tensor=model_input.tensor[0],
            crop=model_input.crop,
            width=radiograph.width,
            height=radiograph.height,
            preprocessing=preprocessing_key(card),
            view_position=radiograph.metadata.view_position,
            analyser_inputs=inputs,
            analyser_keys={kind: analysers.input_key(kind) for kind in inputs} if analysers else {},
        )

    def analyze_with(self, kind: str, images: Sequence[PreparedImage]) -> list[AnalyserOutcome]:
        """One analyser's outcomes (``ml.analysers``) for prepared images, computed as one batch."""
        if self.analysers is None:
            raise ValueError("This pipeline runs the classifier alone; give it analysers.")
        key = self.analysers.input_key(kind)
        for image in images:
            if image.analyser_keys.get(kind) != key:
                raise ValueError(
                    f"An input was not prepared for the {kind} analyser's card; prepare it again."
                )
        if not images:
            return []
        return self.analysers.run(
            kind,
            [image.analyser_inputs[kind] for image in images],
            sizes=[(image.width, image.height) for image in images],
            views=[image.view_position for image in images],
        )

    def analyze(self, images: Sequence[PreparedImage]) -> list[Result]:
        """Findings and heatmaps for prepared images, computed as one batch."""
        if not images:
            return []
        engine = self.engine
        self._check_prepared_for(engine, images)
        probabilities, maps = engine.explain(np.stack([image.tensor for image in images]))
        labels = engine.card.labels
        return [
            Result(
                card=engine.card,
                findings=findings_from_probabilities(probabilities[index], engine.card),
                heatmaps=Heatmaps(
                    labels=labels, maps=maps[index], crop=image.crop, width=image.width, height=image.height
                ),
            )
            for index, image in enumerate(images)
        ]

    def explain(self, image: PreparedImage, label: str, method: str) -> Explanation:
        """One finding explained by one method (``ml.explanations.explanation.METHODS``), with its
        faithfulness scores; ValueError for an unknown label or method, or another model's input."""
        engine = self.engine
        self._check_prepared_for(engine, [image])
        return explain(engine, image, label, method)

    @property
    def ct_card(self) -> CTModelCard:
        """The CT analyser's card, read without building its network (WeightsError if unusable)."""
        return describe_ct_model(self._ct_weights)

    def intake_ct(self, data: bytes) -> CTIntake:
        """Read, check, de-identify and prepare a CT series (no network); ml.errors.ImageError if refused."""
        return take_in_ct(data, self.ct_card)

    def analyze_ct(self, prepared: PreparedCT) -> CTResult:
        """Each slice's probability and the patient's, by the CT card's rule and threshold."""
        with self._ct_lock:
            if self._ct_analyser is None:
                self._ct_analyser = CTAnalyser.load(self._ct_weights, threads=self._threads)
            analyser = self._ct_analyser
        if prepared.card_key != analyser.card.input_key:
            raise ValueError("A CT series was prepared for another CT card's input; prepare it again.")
        return analyser.result_of(analyser.score_grey_levels(prepared.grey_levels))

    def __call__(self, data: bytes, *, screen: bool = True) -> Result:
        """Intake and analysis of one file."""
        return self.analyze([self.intake(data, screen=screen).prepared])[0]

    @staticmethod
    def _check_prepared_for(engine: InferenceEngine, images: Sequence[PreparedImage]) -> None:
        key = preprocessing_key(engine.card)
        for image in images:
            if image.preprocessing != key:
                raise ValueError("An input was prepared for another model's preprocessing; prepare it again.")


def preprocessing_key(card: ModelCard) -> str:
    """A short digest of everything that shapes a card's network input."""
    return card.input_key
