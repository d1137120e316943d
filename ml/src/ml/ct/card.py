"""The CT analyser's model card and ``describe_ct_model``; no TensorFlow here.

A CT weights directory holds ``card.json`` (this card) and ``model.weights.h5`` (Keras 3
weights of ``ml.ct.model.build_resnet18(input_size, base_filters)``), as the radiograph
model's does. The card says how slices are windowed and sized, how the patient's result
is pooled from the slices' (``aggregation``), the operating ``threshold`` on that
result, and which MosMedData grades count as positive. It is checked against the ``ct``
section of the one card schema (``ml.cards``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ml.cards.base import Card
from ml.ct.window import LungWindow

CT_KIND = "ct"
CT_WEIGHTS_ENV_VAR = "CXR_CT_WEIGHTS"
CT_MODEL_NAME = "resnet18-ct-severity"
# Bumped whenever the architecture or its untrained initialisation changes.
CT_ARCHITECTURE_VERSION = "0.1.0"
CT_UNTRAINED_SEED = 0
CT_LABEL = "severe_involvement"
DEFAULT_INPUT_SIZE = 224
DEFAULT_BASE_FILTERS = 64
DEFAULT_AGGREGATION = "mean"
DEFAULT_THRESHOLD = 0.5
# MosMedData grades lung involvement CT-0 (none), CT-1 (< 25 %), CT-2 (25-50 %), CT-3 (50-75 %)
# and CT-4 (> 75 %). "Severe" here is 25 % or more: the grading's own line above mild disease,
# and CT-3 with CT-4 alone are 47 of 1110 studies, too few to learn from.
DEFAULT_POSITIVE_GRADES = ("CT-2", "CT-3", "CT-4")


@dataclass(frozen=True, kw_only=True)
class CTModelCard(Card):
    """What a CT weights directory holds and how its outputs are to be read."""

    KIND = CT_KIND
    NOUN = "CT model card"
    ENV_VAR = CT_WEIGHTS_ENV_VAR
    INPUT_FIELDS = ("window", "input_size")
    IDENTITY_FIELDS = (
        "architecture",
        "base_filters",
        "input_size",
        "window",
        "aggregation",
        "threshold",
        "positive_grades",
        "weights_sha256",
    )

    input_size: int = DEFAULT_INPUT_SIZE
    base_filters: int = DEFAULT_BASE_FILTERS
    window: LungWindow = field(default_factory=LungWindow)
    aggregation: str = DEFAULT_AGGREGATION
    threshold: float = DEFAULT_THRESHOLD
    positive_grades: tuple[str, ...] = DEFAULT_POSITIVE_GRADES
    architecture: str = "resnet18"

    @classmethod
    def untrained(cls) -> CTModelCard:
        return untrained_ct_card()

    # The radiograph weights directory's writer checks the network against these.
    @property
    def labels(self) -> tuple[str, ...]:
        return (CT_LABEL,)

    @property
    def input_channels(self) -> int:
        return 1


def untrained_ct_card(seed: int = CT_UNTRAINED_SEED) -> CTModelCard:
    """The card of the seeded, untrained ResNet-18 run when no CT weights are installed."""
    return CTModelCard(
        name=CT_MODEL_NAME,
        version=f"{CT_ARCHITECTURE_VERSION}-untrained-seed{seed}",
        trained=False,
    )


# The card of the CT weights in ``weights_dir``, or the untrained model's for None.
describe_ct_model = CTModelCard.describe
