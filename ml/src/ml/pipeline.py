"""The one analysis pipeline: a file's bytes in, every analyser's results out.

Every caller goes through ``Pipeline``: the web process (``intake``, to refuse a bad file at once
and keep only what may be kept), the worker (``run``, on what the intake prepared), the CLI's
``predict``, ``evaluate`` and ``localize``, and ``make bench``. So one file gives one answer
everywhere: the same decoding, screening and grey-scale correction, the same preprocessing, the
same thresholds and calibrated scores.

    pipeline = Pipeline(weights_dir, analysers=AnalyserWeights(kinds=("classifier", "screener")))
    intake = pipeline.intake(data)                     # decode, screen, de-identify, prepare (no model)
    [findings] = pipeline.run("classifier", [intake.prepared])   # any configured kind, on a batch
    result = pipeline(data)                            # the classifier's result, both at once

The analysers are the registry's (``ml.analysers``): each kind reads a radiograph or a CT series,
and ``intake`` prepares the input of every configured kind that reads what the file is (a chest CT
series — a zip of slices or a multi-frame CT DICOM, ``is_ct_series`` — goes to the CT intake).

``intake`` never imports TensorFlow or OpenVINO; a network is built by ``build`` (a worker at
start) or on its first ``run``, once per pipeline (build the pipeline inside each worker process,
after it forks).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, overload

from ml.analyser import RADIOGRAPH, AnalyserCard, AnalyserInput, AnalyserResult
from ml.analysers import Analysers, AnalyserWeights
from ml.classifier.analyser import CLASSIFIER, Classifier, ClassifierResult
from ml.classifier.explanations.explanation import Explanation, explain
from ml.ct.analyser import CT_KIND
from ml.ct.intake import CTIntake, PreparedCT, is_ct_series, take_in_ct
from ml.errors import UnsupportedImageError
from ml.images.decoding import decode_radiograph, image_format
from ml.images.deidentification import clean_copy, words_of
from ml.images.dicom import deidentified_copy, identifying_values, is_dicom, is_lateral_view, read_dataset
from ml.images.radiograph import Radiograph
from ml.images.rendering import radiograph_png
from ml.images.screening import Screening, screen_radiograph
from ml.prepared import PreparedImage

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from ml.classifier.engine import InferenceEngine


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


class Pipeline:
    """Intake and analysis for the classifier in ``weights_dir`` (None: untrained) and ``analysers``.

    ``analysers`` names the kinds that run beside the classifier and their weights directories
    (``ml.analysers.AnalyserWeights``; default: the classifier alone); ``threads`` and ``backend`` are
    passed to each network when it is built.
    """

    def __init__(
        self,
        weights_dir: str | os.PathLike[str] | None = None,
        *,
        analysers: AnalyserWeights | None = None,
        threads: int | None = None,
        backend: str | None = None,
    ) -> None:
        configured = analysers if analysers is not None else AnalyserWeights()
        weights = AnalyserWeights(
            kinds=configured.kinds, directories={**configured.directories, CLASSIFIER: weights_dir}
        )
        self.analysers = Analysers(weights, threads=threads, backend=backend)

    @classmethod
    def for_engine(cls, engine: InferenceEngine) -> Pipeline:
        """A pipeline around a classifier engine already built (tests, benchmarks, a model just trained)."""
        pipeline = cls()
        pipeline.analysers.adopt(Classifier(engine))
        return pipeline

    @property
    def kinds(self) -> tuple[str, ...]:
        return self.analysers.kinds

    def card(self, kind: str = CLASSIFIER) -> AnalyserCard:
        """The installed card of ``kind``, read without building its network (WeightsError if unusable).

        A result's card (``result.card``, the built analyser's) may add what only exists once the
        network is built: the untrained classifier's weights hash, the form that computes it.
        """
        return self.analysers.card(kind)

    @property
    def engine(self) -> InferenceEngine:
        """The classifier's inference engine, built on first use and then kept."""
        return self.analysers.built(CLASSIFIER).engine

    def build(self, kinds: Sequence[str] | None = None) -> None:
        """Build these configured networks now (default: every one; a worker at start), so that no
        study waits for one."""
        self.analysers.build(kinds)

    def intake(
        self,
        data: bytes,
        *,
        dataset: Dataset | None = None,
        screen: bool = True,
        accept_lateral: bool = False,
    ) -> Intake | CTIntake:
        """Decode, screen, de-identify and prepare one file; raise ml.errors.ImageError if it is refused.

        A DICOM file is parsed once (``ml.images.dicom.read_dataset``), and that one reading serves
        routing, decoding and de-identification; a caller that has read it already (the service
        groups an upload's files by their study) passes it as ``dataset``.

        A chest CT series (``is_ct_series``) is taken in by the CT intake and answered as a ``CTIntake``
        where the CT analyser is configured. ``screen=False`` skips the input screening of a
        radiograph (and so its grey-scale correction): the file is then answered as the network sees
        it, which the service never does. Evaluation offers it for research data sets the screening
        was not made for, and says so in its report. ``accept_lateral=True`` takes in a DICOM lateral
        view instead of refusing it, for a study that holds a frontal image too: it is de-identified
        but not screened (the screening knows frontal views only), and ``intake.lateral`` says the
        analysers must not read it.
        """
        if dataset is None and is_dicom(data):
            dataset = read_dataset(data)
        if is_ct_series(data, dataset=dataset):
            if CT_KIND not in self.kinds:
                raise UnsupportedImageError("CT series are not analysed here: upload a chest radiograph.")
            return take_in_ct(data, self.analysers.card(CT_KIND), dataset=dataset)
        radiograph = decode_radiograph(data, dataset=dataset, accept_lateral=accept_lateral)
        screening = None
        if screen and not is_lateral_view(radiograph.metadata.view_position):
            radiograph, screening = screen_radiograph(radiograph)
        file_format = image_format(data)
        if dataset is not None:
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

    def radiograph_intake(
        self,
        data: bytes,
        *,
        dataset: Dataset | None = None,
        screen: bool = True,
        accept_lateral: bool = False,
    ) -> Intake:
        """``intake`` for a caller that takes radiographs only: a CT series is refused as one."""
        intake = self.intake(data, dataset=dataset, screen=screen, accept_lateral=accept_lateral)
        if isinstance(intake, CTIntake):
            raise UnsupportedImageError("This is a CT series; a chest radiograph was expected here.")
        return intake

    def prepare(self, radiograph: Radiograph) -> PreparedImage:
        """Every configured radiograph analyser's input for an already screened radiograph."""
        inputs, keys = self.analysers.prepare(RADIOGRAPH, radiograph)
        return PreparedImage(
            inputs=inputs,
            input_keys=keys,
            width=radiograph.width,
            height=radiograph.height,
            view_position=radiograph.metadata.view_position,
        )

    @overload
    def run(
        self, kind: Literal["classifier"], prepared: Sequence[PreparedImage]
    ) -> list[ClassifierResult]: ...

    @overload
    def run(self, kind: str, prepared: Sequence[PreparedImage | PreparedCT]) -> list[AnalyserResult]: ...

    def run(self, kind: str, prepared: Sequence[PreparedImage | PreparedCT]) -> Sequence[AnalyserResult]:
        """``kind``'s results for prepared radiographs (or CT series), computed as one batch.

        ValueError where an input was prepared for another card of ``kind`` (prepare it again).
        """
        key = self.analysers.input_key(kind)
        inputs = []
        for item in prepared:
            if isinstance(item, PreparedCT):
                if item.card_key != key:
                    raise ValueError(
                        f"A CT series was not prepared for the {kind} analyser's card; prepare it again."
                    )
                rows, columns = item.grey_levels.shape[1:]
                inputs.append(AnalyserInput(item.grey_levels, width=columns, height=rows))
            else:
                inputs.append(
                    AnalyserInput(item.input_for(kind, key), item.width, item.height, item.view_position)
                )
        return self.analysers.run(kind, inputs)

    def explain(self, image: PreparedImage, label: str, method: str) -> Explanation:
        """One finding explained by one method (``ml.classifier.explanations.explanation.METHODS``), with its
        faithfulness scores; ValueError for an unknown label or method, or another model's input."""
        image.input_for(CLASSIFIER, self.analysers.input_key(CLASSIFIER))
        return explain(self.engine, image, label, method)

    def __call__(self, data: bytes, *, screen: bool = True) -> ClassifierResult:
        """The classifier's result for one radiograph file, intake and analysis at once."""
        [result] = self.run(CLASSIFIER, [self.radiograph_intake(data, screen=screen).prepared])
        return result
