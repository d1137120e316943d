"""The CT analyser's model card and ``describe_ct_model``; no TensorFlow here.

A CT weights directory holds ``card.json`` (this card) and ``model.weights.h5`` (Keras 3
weights of ``ml.ct.model.build_resnet18(input_size, base_filters)``), as the radiograph
model's does. The card says how slices are windowed and sized, how the patient's result
is pooled from the slices' (``aggregation``), the operating ``threshold`` on that
result, and which MosMedData grades count as positive.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml.ct.window import LungWindow
from ml.errors import WeightsError
from ml.evaluation.grouping import AGGREGATION_RULES
from ml.weights.card import read_card_json, write_card_json
from ml.weights.registry import CARD_FILENAME, WEIGHTS_FILENAME, file_stamp, verified_sha256

CT_KIND = "ct"
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

_FIELDS = {
    "kind",
    "name",
    "version",
    "trained",
    "architecture",
    "base_filters",
    "input_size",
    "window",
    "aggregation",
    "threshold",
    "positive_grades",
    "weights_sha256",
    "training_data",
    "validation",
}


@dataclass(frozen=True)
class CTModelCard:
    """What a CT weights directory holds and how its outputs are to be read."""

    name: str
    version: str
    trained: bool
    input_size: int = DEFAULT_INPUT_SIZE
    base_filters: int = DEFAULT_BASE_FILTERS
    window: LungWindow = field(default_factory=LungWindow)
    aggregation: str = DEFAULT_AGGREGATION
    threshold: float = DEFAULT_THRESHOLD
    positive_grades: tuple[str, ...] = DEFAULT_POSITIVE_GRADES
    weights_sha256: str | None = None
    training_data: str | None = None
    validation: dict[str, Any] | None = None
    kind: str = CT_KIND
    architecture: str = "resnet18"

    # The radiograph weights directory's writer checks the network against these.
    @property
    def labels(self) -> tuple[str, ...]:
        return (CT_LABEL,)

    @property
    def input_channels(self) -> int:
        return 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "version": self.version,
            "trained": self.trained,
            "architecture": self.architecture,
            "base_filters": self.base_filters,
            "input_size": self.input_size,
            "window": self.window.to_dict(),
            "aggregation": self.aggregation,
            "threshold": self.threshold,
            "positive_grades": list(self.positive_grades),
            "weights_sha256": self.weights_sha256,
            "training_data": self.training_data,
            "validation": copy.deepcopy(self.validation),
        }

    @classmethod
    def from_dict(cls, data: Any) -> CTModelCard:
        """Build a card from parsed JSON; WeightsError naming the first bad, missing or unknown field."""
        if not isinstance(data, dict):
            raise WeightsError("The CT model card must be a JSON object.")
        unknown = sorted(set(data) - _FIELDS)
        if unknown:
            raise WeightsError(f"The CT model card has unknown field(s): {', '.join(unknown)}.")
        missing = sorted(_FIELDS - set(data))
        if missing:
            raise WeightsError(f"The CT model card is missing the field(s): {', '.join(missing)}.")
        if data["kind"] != CT_KIND or data["architecture"] != "resnet18":
            raise WeightsError(
                "The card is not a CT ResNet-18 card (kind must be 'ct', architecture 'resnet18')."
            )
        for name in ("name", "version"):
            if not isinstance(data[name], str) or not data[name].strip():
                raise WeightsError(f"The CT model card's {name} must be a non-empty string.")
        if not isinstance(data["trained"], bool):
            raise WeightsError("The CT model card's trained must be true or false.")
        for name, low in (("input_size", 32), ("base_filters", 1)):
            value = data[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise WeightsError(f"The CT model card's {name} must be an integer of at least {low}.")
        if data["aggregation"] not in AGGREGATION_RULES:
            raise WeightsError(
                f"The CT model card's aggregation must be one of {', '.join(AGGREGATION_RULES)}."
            )
        threshold = data["threshold"]
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or not 0.0 <= threshold <= 1.0
        ):
            raise WeightsError("The CT model card's threshold must be a number in [0, 1].")
        grades = data["positive_grades"]
        if not isinstance(grades, list) or not grades or not all(isinstance(g, str) and g for g in grades):
            raise WeightsError("The CT model card's positive_grades must be a non-empty list of grade names.")
        for name in ("weights_sha256", "training_data"):
            if data[name] is not None and not isinstance(data[name], str):
                raise WeightsError(f"The CT model card's {name} must be a string or null.")
        if data["validation"] is not None and not isinstance(data["validation"], dict):
            raise WeightsError("The CT model card's validation must be an object or null.")
        return cls(
            name=data["name"],
            version=data["version"],
            trained=data["trained"],
            input_size=data["input_size"],
            base_filters=data["base_filters"],
            window=LungWindow.from_dict(data["window"]),
            aggregation=data["aggregation"],
            threshold=float(threshold),
            positive_grades=tuple(grades),
            weights_sha256=data["weights_sha256"],
            training_data=data["training_data"],
            validation=data["validation"],
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CTModelCard:
        return cls.from_dict(read_card_json(path))

    def save(self, path: str | os.PathLike[str]) -> None:
        write_card_json(path, self.to_dict())


def untrained_ct_card(seed: int = CT_UNTRAINED_SEED) -> CTModelCard:
    """The card of the seeded, untrained ResNet-18 run when no CT weights are installed."""
    return CTModelCard(
        name=CT_MODEL_NAME,
        version=f"{CT_ARCHITECTURE_VERSION}-untrained-seed{seed}",
        trained=False,
    )


def describe_ct_model(weights_dir: str | os.PathLike[str] | None) -> CTModelCard:
    """The card of the CT weights in ``weights_dir`` (None: the untrained model's); cheap, cached.

    The returned card's ``weights_sha256`` is that of ``model.weights.h5``; a card that
    records another hash is refused. Any problem raises WeightsError naming the file.
    """
    if weights_dir is None:
        return untrained_ct_card()
    directory = Path(weights_dir).expanduser().resolve()
    if not directory.is_dir():
        raise WeightsError(f"The CT weights directory {directory} does not exist or is not a directory.")
    stamps = (
        file_stamp(directory / CARD_FILENAME, directory),
        file_stamp(directory / WEIGHTS_FILENAME, directory),
    )
    return copy.deepcopy(_describe_directory(str(directory), *stamps))


# The stamps are arguments only so that they take part in the cache key.
@functools.lru_cache(maxsize=8)
def _describe_directory(
    directory: str, card_stamp: tuple[int, int, int], weights_stamp: tuple[int, int, int]
) -> CTModelCard:
    card = CTModelCard.load(Path(directory) / CARD_FILENAME)
    actual = verified_sha256(Path(directory) / WEIGHTS_FILENAME, card.weights_sha256)
    return dataclasses.replace(card, weights_sha256=actual)
