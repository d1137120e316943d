"""The classifier's model card: what a set of weights is, how to feed it and how to read its outputs.

Every stored result records the card that produced it, so a card is small, JSON-able and
validated strictly when read (``ml.cards``: the package's one schema, ``classifier`` section): a
weights directory with a doubtful card is refused rather than run with guessed settings.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ml.cards.base import Card
from ml.classifier.explanations.settings import ExplanationSettings
from ml.errors import WeightsError
from ml.images.preprocessing import default_preprocessing, radiograph_preprocessing
from ml.labels import CHESTXRAY14_LABELS

WEIGHTS_ENV_VAR = "CXR_WEIGHTS"
MODEL_NAME = "densenet121-chestxray14"
# Bumped whenever the architecture or the untrained initialisation changes, because the
# untrained model's results are identified by this version rather than a weights hash.
ARCHITECTURE_VERSION = "0.1.0"
UNTRAINED_SEED = 0
DEFAULT_THRESHOLD = 0.5
INPUT_SIZE = 224
INPUT_CHANNELS = 1
# The rule a card names for a study of several images when it names none (ml.classifier.aggregation).
DEFAULT_STUDY_AGGREGATION = "mean"


@dataclass(frozen=True, kw_only=True)
class ModelCard(Card):
    """The description of one classifier's weights (``card.json`` without a ``kind``)."""

    KIND = "classifier"
    NOUN = "model card"
    ENV_VAR = WEIGHTS_ENV_VAR
    KIND_IN_LAYOUT = False
    INPUT_FIELDS = ("preprocessing", "input_size", "input_channels")
    # The source says where weights came from, the forms how they run: the weights hash already
    # identifies results.
    IDENTITY_FIELDS = (
        "labels",
        "thresholds",
        "input_size",
        "input_channels",
        "preprocessing",
        "weights_sha256",
    )
    # Only imported weights have a source, only quantized ones inference forms: other cards keep
    # their old layout.
    OMITTED_WHEN_NONE = frozenset({"source", "inference", "explanations"})

    labels: tuple[str, ...]
    input_size: int
    input_channels: int
    preprocessing: dict[str, Any]
    thresholds: dict[str, float]
    # Where imported weights came from: the checkpoint's format, file name and SHA-256,
    # its raw outputs and which output each label reads ("label_outputs").
    source: dict[str, Any] | None = None
    # Quantized forms of the weights and how each was judged (``{"forms": {name: record}}``);
    # the card an engine reports adds ``"in_use"``, the form that computes its results.
    inference: dict[str, Any] | None = None
    # The explanation methods' settings (``ml.classifier.explanations.settings``), every field filled in;
    # None where the card has no such section, which then explains with the defaults.
    explanations: dict[str, Any] | None = None
    # How a study of several images turns its images' probabilities into one per finding
    # (ml.classifier.aggregation): "mean", as the published multi-view work does, or "max".
    study_aggregation: str = DEFAULT_STUDY_AGGREGATION

    @classmethod
    def untrained(cls) -> ModelCard:
        return untrained_card()

    @property
    def explanation_settings(self) -> ExplanationSettings:
        return ExplanationSettings.from_dict(self.explanations, input_size=self.input_size)

    def _checked(self) -> ModelCard:
        missing = [label for label in self.labels if label not in self.thresholds]
        if missing:
            raise WeightsError(f"The model card's thresholds lack the label(s): {', '.join(missing)}.")
        extra = sorted(set(self.thresholds) - set(self.labels))
        if extra:
            raise WeightsError(f"The model card's thresholds name unknown label(s): {', '.join(extra)}.")
        if self.validation is not None:
            _check_validation_figures(self.validation, self.labels)
        if self.inference is not None:
            _check_forms(self.inference["forms"])
        explanations = self.explanations
        if explanations is not None:
            # The section's ranges that depend on the input size, and every default filled in.
            explanations = ExplanationSettings.from_dict(explanations, input_size=self.input_size).to_dict()
        return dataclasses.replace(
            self,
            preprocessing=radiograph_preprocessing(
                self.NOUN, self.preprocessing, self.input_size, self.input_channels
            ),
            thresholds={label: float(self.thresholds[label]) for label in self.labels},
            explanations=explanations,
        )


def untrained_card(seed: int = UNTRAINED_SEED) -> ModelCard:
    """The card of the seeded, untrained DenseNet121 used when no weights are installed.

    ``weights_sha256`` is None here because the weights only exist once TensorFlow has built
    the model; ``ml.classifier.engine.InferenceEngine.card`` fills it in after building.
    """
    return ModelCard(
        name=MODEL_NAME,
        version=f"{ARCHITECTURE_VERSION}-untrained-seed{seed}",
        labels=CHESTXRAY14_LABELS,
        input_size=INPUT_SIZE,
        input_channels=INPUT_CHANNELS,
        preprocessing=default_preprocessing(INPUT_SIZE),
        thresholds=dict.fromkeys(CHESTXRAY14_LABELS, DEFAULT_THRESHOLD),
        weights_sha256=None,
        trained=False,
    )


def _check_validation_figures(validation: dict[str, Any], labels: tuple[str, ...]) -> None:
    unknown = sorted(set(validation["findings"]) - set(labels))
    if unknown:
        raise WeightsError(
            f"The model card's validation has figures for unknown labels: {', '.join(unknown)}."
        )
    intervals = {"validation.mean_auroc_ci95": validation["mean_auroc_ci95"]} | {
        f"validation.findings.{label}.auroc_ci95": figures["auroc_ci95"]
        for label, figures in validation["findings"].items()
    }
    for where, interval in intervals.items():
        if interval is not None and interval[0] > interval[1]:
            raise WeightsError(f"The model card's {where} must be [low, high] with low <= high.")


def _check_forms(forms: dict[str, Any]) -> None:
    for name, record in forms.items():
        difference, tolerance = record["max_abs_probability_difference"], record["tolerance"]
        if record["accepted"] and difference > tolerance:
            raise WeightsError(
                f"The model card's inference.forms.{name} is accepted although its difference "
                f"{difference} exceeds {tolerance}."
            )
