"""Model cards: what a set of weights is, how to feed it and how to read its outputs.

Every stored result records the card that produced it, so a card is small, JSON-able and
validated strictly when read: a weights directory with a doubtful card is refused rather
than run with guessed settings.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml.errors import WeightsError
from ml.evaluation.grouping import AGGREGATION_RULES
from ml.explanations.settings import ExplanationSettings
from ml.inference.preprocessing import PreprocessingSpec
from ml.weights.validation import checked_validation

_SHA256 = re.compile(r"[0-9a-f]{64}")

_REQUIRED_FIELDS = (
    "name",
    "version",
    "labels",
    "input_size",
    "input_channels",
    "preprocessing",
    "thresholds",
    "trained",
)
_OPTIONAL_FIELDS = (
    "weights_sha256",
    "training_data",
    "validation",
    "source",
    "inference",
    "explanations",
    "study_aggregation",
)

# The runtime forms a weights directory may hold besides its float32 weights, each with the
# record of how it was judged (``python -m ml quantize``, ``ml.inference.quantization``).
RUNTIME_FORMS = ("openvino-int8",)
_FORM_PRECISIONS = ("int8", "mixed")
# The rule a card names for a study of several images when it names none (ml.inference.aggregation).
DEFAULT_STUDY_AGGREGATION = "mean"
_FORM_FIELDS = {
    "accepted": bool,
    "precision": str,
    "files": dict,
    "weights_sha256": str,
    "max_abs_probability_difference": float,
    "tolerance": float,
    "calibration_images": int,
    "held_out_images": int,
    "float32_layers": list,
    "forward_ms": dict,
    "measured_on": dict,
}


@dataclass(frozen=True)
class ModelCard:
    """The description of one model's weights.

    The dict fields are part of a frozen card: treat them as read-only (``to_dict`` and
    ``from_dict`` make copies, so a caller's edits never reach a shared card).
    """

    name: str
    version: str
    labels: tuple[str, ...]
    input_size: int
    input_channels: int
    preprocessing: dict[str, Any]
    thresholds: dict[str, float]
    weights_sha256: str | None
    trained: bool
    training_data: str | None = None
    validation: dict[str, Any] | None = None
    # Where imported weights came from: the checkpoint's format, file name and SHA-256,
    # its raw outputs and which output each label reads ("label_outputs").
    source: dict[str, Any] | None = None
    # Quantized forms of the weights and how each was judged (``{"forms": {name: record}}``);
    # the card an engine reports adds ``"in_use"``, the form that computes its results.
    inference: dict[str, Any] | None = None
    # The explanation methods' settings (``ml.explanations.settings``), every field filled in;
    # None where the card has no such section, which then explains with the defaults.
    explanations: dict[str, Any] | None = None
    # How a study of several images turns its images' probabilities into one per finding
    # (ml.inference.aggregation): "mean", as the published multi-view work does, or "max".
    study_aggregation: str = DEFAULT_STUDY_AGGREGATION

    @property
    def explanation_settings(self) -> ExplanationSettings:
        return ExplanationSettings.from_dict(self.explanations, input_size=self.input_size)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy of the card, in the layout of ``card.json``."""
        return {
            "name": self.name,
            "version": self.version,
            "labels": list(self.labels),
            "input_size": self.input_size,
            "input_channels": self.input_channels,
            "preprocessing": json.loads(json.dumps(self.preprocessing)),
            "thresholds": {label: self.thresholds[label] for label in self.labels},
            "weights_sha256": self.weights_sha256,
            "trained": self.trained,
            "training_data": self.training_data,
            "validation": json.loads(json.dumps(self.validation)) if self.validation is not None else None,
            # Only imported weights have a source; other cards keep their old layout.
            **({"source": json.loads(json.dumps(self.source))} if self.source is not None else {}),
            **({"inference": json.loads(json.dumps(self.inference))} if self.inference is not None else {}),
            **(
                {"explanations": json.loads(json.dumps(self.explanations))}
                if self.explanations is not None
                else {}
            ),
            "study_aggregation": self.study_aggregation,
        }

    @classmethod
    def from_dict(cls, data: Any) -> ModelCard:
        """Build a card from parsed JSON; raise WeightsError naming the first bad or missing field."""
        if not isinstance(data, dict):
            raise WeightsError("The model card must be a JSON object.")
        missing = [field for field in _REQUIRED_FIELDS if field not in data]
        if missing:
            raise WeightsError(f"The model card is missing the field(s): {', '.join(missing)}.")
        unknown = set(data) - set(_REQUIRED_FIELDS) - set(_OPTIONAL_FIELDS)
        if unknown:
            # Strictness catches misspelt optional fields, which would otherwise vanish silently.
            raise WeightsError(f"The model card has unknown field(s): {', '.join(sorted(unknown))}.")

        name = _non_empty_string(data, "name")
        version = _non_empty_string(data, "version")
        labels = _labels(data["labels"])
        input_size = _integer(data, "input_size", minimum=32)
        input_channels = data["input_channels"]
        if input_channels not in (1, 3) or isinstance(input_channels, bool):
            raise WeightsError(f"The model card's input_channels must be 1 or 3, not {input_channels!r}.")
        try:
            spec = PreprocessingSpec.from_dict(data["preprocessing"])
        except ValueError as error:
            raise WeightsError(f"The model card's {error}") from error
        if spec.colour == "rgb" and input_channels != 3:
            raise WeightsError(
                f'The model card\'s preprocessing.colour "rgb" needs input_channels 3, not {input_channels}.'
            )
        if spec.resize != input_size:
            raise WeightsError(
                f"The model card's preprocessing.resize ({spec.resize}) differs from its "
                f"input_size ({input_size})."
            )
        thresholds = _thresholds(data["thresholds"], labels)
        trained = data["trained"]
        if not isinstance(trained, bool):
            raise WeightsError(f"The model card's trained must be true or false, not {trained!r}.")
        weights_sha256 = data.get("weights_sha256")
        if weights_sha256 is not None and (
            not isinstance(weights_sha256, str) or not _SHA256.fullmatch(weights_sha256)
        ):
            raise WeightsError("The model card's weights_sha256 must be 64 lower-case hex digits or null.")
        training_data = data.get("training_data")
        if training_data is not None and not isinstance(training_data, str):
            raise WeightsError("The model card's training_data must be a string or null.")
        validation = data.get("validation")
        if validation is not None:
            validation = checked_validation(validation, labels)
        source = data.get("source")
        if source is not None and not isinstance(source, dict):
            raise WeightsError("The model card's source must be a JSON object or null.")
        inference = _inference(data.get("inference"))
        explanations = data.get("explanations")
        if explanations is not None:
            explanations = ExplanationSettings.from_dict(explanations, input_size=input_size).to_dict()
        study_aggregation = data.get("study_aggregation", DEFAULT_STUDY_AGGREGATION)
        if study_aggregation not in AGGREGATION_RULES:
            raise WeightsError(
                f"The model card's study_aggregation must be one of {', '.join(AGGREGATION_RULES)}, "
                f"not {study_aggregation!r}."
            )

        return cls(
            name=name,
            version=version,
            labels=labels,
            input_size=input_size,
            input_channels=input_channels,
            preprocessing=spec.to_dict(),
            thresholds=thresholds,
            weights_sha256=weights_sha256,
            trained=trained,
            training_data=training_data,
            validation=json.loads(json.dumps(validation)) if validation is not None else None,
            source=json.loads(json.dumps(source)) if source is not None else None,
            inference=inference,
            explanations=explanations,
            study_aggregation=study_aggregation,
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ModelCard:
        """Read and validate a ``card.json`` file."""
        return cls.from_dict(read_card_json(path))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the card as ``card.json``, atomically so a reader never sees half a card."""
        write_card_json(path, self.to_dict())

    @property
    def cache_identity(self) -> str:
        """A string naming everything about the model that can change a stored result.

        It has the form ``name@version#digest``. The digest covers the labels, thresholds,
        input size and preprocessing, and the weights hash of a trained model, so editing
        any of them invalidates cached results. An untrained card leaves the weights hash
        out: the registry describes the seeded untrained model without building it and so
        cannot know that hash, while its version names the seed that fixes the weights;
        leaving it out keeps the web process's and the worker's identities equal.
        """
        identity = {
            "labels": list(self.labels),
            "thresholds": {label: self.thresholds[label] for label in self.labels},
            "input_size": self.input_size,
            "input_channels": self.input_channels,
            "preprocessing": self.preprocessing,
            "weights_sha256": self.weights_sha256 if self.trained else "untrained",
        }
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8")).hexdigest()
        return f"{self.name}@{self.version}#{digest[:16]}"


def _non_empty_string(data: dict[str, Any], field: str) -> str:
    value = data[field]
    if not isinstance(value, str) or not value.strip():
        raise WeightsError(f"The model card's {field} must be a non-empty string.")
    return value


def _integer(data: dict[str, Any], field: str, *, minimum: int) -> int:
    value = data[field]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise WeightsError(
            f"The model card's {field} must be an integer of at least {minimum}, not {value!r}."
        )
    return value


def _labels(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise WeightsError("The model card's labels must be a non-empty list of strings.")
    if not all(isinstance(label, str) and label for label in value):
        raise WeightsError("The model card's labels must all be non-empty strings.")
    if len(set(value)) != len(value):
        raise WeightsError("The model card's labels must not repeat.")
    return tuple(value)


def _thresholds(value: Any, labels: tuple[str, ...]) -> dict[str, float]:
    if not isinstance(value, dict):
        raise WeightsError(
            "The model card's thresholds must be a JSON object mapping each label to a number."
        )
    missing = [label for label in labels if label not in value]
    if missing:
        raise WeightsError(f"The model card's thresholds lack the label(s): {', '.join(missing)}.")
    extra = sorted(set(value) - set(labels))
    if extra:
        raise WeightsError(f"The model card's thresholds name unknown label(s): {', '.join(extra)}.")
    thresholds: dict[str, float] = {}
    for label in labels:
        threshold = value[label]
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or not math.isfinite(threshold)
            or not 0.0 <= threshold <= 1.0
        ):
            raise WeightsError(
                f"The model card's threshold for {label} must lie in [0, 1], not {threshold!r}."
            )
        thresholds[label] = float(threshold)
    return thresholds


def _inference(value: Any) -> dict[str, Any] | None:
    """The ``inference`` field checked key by key: an engine must never run a doubtful form."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"forms", "in_use"} or "forms" not in value:
        raise WeightsError('The model card\'s inference must be a JSON object {"forms": {...}}.')
    forms = value["forms"]
    if not isinstance(forms, dict):
        raise WeightsError("The model card's inference.forms must be a JSON object.")
    unknown = sorted(set(forms) - set(RUNTIME_FORMS))
    if unknown:
        raise WeightsError(
            f"The model card's inference.forms has unknown form(s) {', '.join(unknown)}; "
            f"known: {', '.join(RUNTIME_FORMS)}."
        )
    in_use = value.get("in_use")
    if in_use is not None and (not isinstance(in_use, str) or not in_use):
        raise WeightsError("The model card's inference.in_use must be a runtime's name.")
    checked = {"forms": {name: _form_record(name, record) for name, record in forms.items()}}
    if in_use is not None:
        checked["in_use"] = in_use
    return json.loads(json.dumps(checked))


def _form_record(name: str, record: Any) -> dict[str, Any]:
    where = f"The model card's inference.forms.{name}"
    if not isinstance(record, dict):
        raise WeightsError(f"{where} must be a JSON object.")
    missing = sorted(set(_FORM_FIELDS) - set(record))
    unknown = sorted(set(record) - set(_FORM_FIELDS))
    if missing or unknown:
        raise WeightsError(
            f"{where} must have exactly the fields {', '.join(_FORM_FIELDS)}; "
            f"missing: {', '.join(missing) or 'none'}, unknown: {', '.join(unknown) or 'none'}."
        )
    for field, kind in _FORM_FIELDS.items():
        item = record[field]
        # JSON has one number type: an integral tolerance or difference is still a number.
        expected = (int, float) if kind is float else kind
        if isinstance(item, bool) is not (kind is bool) or not isinstance(item, expected):
            raise WeightsError(f"{where}.{field} must be of type {kind.__name__}, not {item!r}.")
    if record["precision"] not in _FORM_PRECISIONS:
        raise WeightsError(f"{where}.precision must be one of {', '.join(_FORM_PRECISIONS)}.")
    if not _SHA256.fullmatch(record["weights_sha256"]):
        raise WeightsError(f"{where}.weights_sha256 must be 64 lower-case hex digits.")
    files = record["files"]
    if not all(
        isinstance(file, str) and isinstance(digest, str) and _SHA256.fullmatch(digest)
        for file, digest in files.items()
    ):
        raise WeightsError(f"{where}.files must map file names to their SHA-256.")
    if any(Path(file).name != file or file.startswith(".") for file in files):
        # A record names files inside its own weights directory, never a path elsewhere.
        raise WeightsError(f"{where}.files must name files in the weights directory itself.")
    if record["accepted"] and not files:
        raise WeightsError(f"{where} is accepted but names no files.")
    difference, tolerance = record["max_abs_probability_difference"], record["tolerance"]
    if not (math.isfinite(difference) and difference >= 0.0 and 0.0 < tolerance <= 1.0):
        raise WeightsError(
            f"{where}: the difference must be a number of at least 0 and the tolerance in (0, 1]."
        )
    if record["accepted"] and difference > tolerance:
        raise WeightsError(f"{where} is accepted although its difference {difference} exceeds {tolerance}.")
    if record["calibration_images"] < 1 or record["held_out_images"] < 1:
        raise WeightsError(f"{where}: calibration_images and held_out_images must be at least 1.")
    if not all(isinstance(layer, str) for layer in record["float32_layers"]):
        raise WeightsError(f"{where}.float32_layers must be a list of layer names.")
    timings = record["forward_ms"]
    if set(timings) != {"f32", name.rsplit("-", 1)[1]} or not all(
        isinstance(ms, int | float) and not isinstance(ms, bool) and ms > 0 for ms in timings.values()
    ):
        raise WeightsError(f"{where}.forward_ms must give the f32 and {name} forward times in ms.")
    measured_on = record["measured_on"]
    if set(measured_on) != {"cpu", "int8_isa", "openvino", "nncf"} or not all(
        isinstance(item, str) for item in measured_on.values()
    ):
        raise WeightsError(f"{where}.measured_on must give cpu, int8_isa, openvino and nncf as strings.")
    return record


def read_card_json(path: str | os.PathLike[str]) -> Any:
    """The parsed JSON of a card file; WeightsError when it is missing, unreadable or not JSON."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise WeightsError(f"The model card {path} does not exist.") from error
    except (OSError, UnicodeDecodeError) as error:
        raise WeightsError(f"The model card {path} cannot be read: {error}.") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise WeightsError(f"The model card {path} is not valid JSON: {error}.") from error


def write_card_json(path: str | os.PathLike[str], content: dict[str, Any]) -> None:
    """Write a card's JSON atomically, so a reader never sees half a card."""
    path = Path(path)
    text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
    descriptor, temporary = tempfile.mkstemp(prefix=".card-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
