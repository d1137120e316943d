"""The screener's card: what a set of screener weights is, how to feed it, where it operates.

Readable without TensorFlow, so the web process can show it on every request. A card is
validated strictly when read: unknown fields, a wrong kind, a threshold outside [0, 1] or
an architecture this package cannot build are refused with a WeightsError naming the field.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml.errors import WeightsError
from ml.inference.preprocessing import PreprocessingSpec
from ml.training.config import atomic_write_text
from ml.weights.registry import CARD_FILENAME, WEIGHTS_FILENAME, sha256_file

SCREENER_WEIGHTS_ENV_VAR = "CXR_SCREENER_WEIGHTS"
KIND = "screener"
# The networks ``ml.abnormality.architectures`` builds, and the smallest input each accepts.
ARCHITECTURES: dict[str, int] = {"inceptionv3": 75, "elu-cnn": 32}
DEFAULT_INPUT_SIZES: dict[str, int] = {"inceptionv3": 299, "elu-cnn": 224}
DEFAULT_ARCHITECTURE = "inceptionv3"
DEFAULT_INPUT_SIZE = DEFAULT_INPUT_SIZES[DEFAULT_ARCHITECTURE]
DEFAULT_TARGET_SENSITIVITY = 0.95
# The weights are a Keras network's; ``ml.engine`` runs it on OpenVINO (converted) on a CPU.
RUNTIME = "keras"
ARCHITECTURE_VERSION = "0.1.0"
UNTRAINED_SEED = 0
UNTRAINED_THRESHOLD = 0.5
# InceptionV3's own input convention: grey levels in [-1, 1].
INPUT_SCALE = (-1.0, 1.0)

_FIELDS = (
    "kind",
    "name",
    "version",
    "architecture",
    "input_size",
    "input_channels",
    "preprocessing",
    "threshold",
    "target_sensitivity",
    "trained",
    "runtime",
    "weights_sha256",
    "training_data",
    "validation",
)
_OPTIONAL = ("weights_sha256", "training_data", "validation")


@dataclass(frozen=True)
class ScreenerCard:
    """One screener's description; ``threshold`` was chosen on validation for ``target_sensitivity``."""

    name: str
    version: str
    architecture: str
    input_size: int
    input_channels: int
    preprocessing: dict[str, Any]
    threshold: float
    target_sensitivity: float
    trained: bool
    runtime: str = RUNTIME
    weights_sha256: str | None = None
    training_data: str | None = None
    validation: dict[str, Any] | None = None
    kind: str = KIND

    @property
    def spec(self) -> PreprocessingSpec:
        return PreprocessingSpec.from_dict(self.preprocessing)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy, in the layout of ``card.json``."""
        return json.loads(json.dumps({field: getattr(self, field) for field in _FIELDS}))

    @classmethod
    def from_dict(cls, data: Any) -> ScreenerCard:
        """Build a card from parsed JSON; raise WeightsError naming the first bad or missing field."""
        if not isinstance(data, dict):
            raise WeightsError("The screener card must be a JSON object.")
        missing = [field for field in _FIELDS if field not in data and field not in _OPTIONAL]
        if missing:
            raise WeightsError(f"The screener card is missing the field(s): {', '.join(missing)}.")
        unknown = sorted(set(data) - set(_FIELDS))
        if unknown:
            raise WeightsError(f"The screener card has unknown field(s): {', '.join(unknown)}.")
        if data["kind"] != KIND:
            raise WeightsError(f'The card\'s kind is {data["kind"]!r}, not "{KIND}": it is no screener card.')
        for field in ("name", "version"):
            if not isinstance(data[field], str) or not data[field].strip():
                raise WeightsError(f"The screener card's {field} must be a non-empty string.")
        architecture = data["architecture"]
        if architecture not in ARCHITECTURES:
            raise WeightsError(
                f"The screener card's architecture must be one of {', '.join(ARCHITECTURES)}, "
                f"not {architecture!r}."
            )
        size = data["input_size"]
        if isinstance(size, bool) or not isinstance(size, int) or size < ARCHITECTURES[architecture]:
            raise WeightsError(
                f"The screener card's input_size must be an integer of at least "
                f"{ARCHITECTURES[architecture]} for {architecture}, not {size!r}."
            )
        channels = data["input_channels"]
        if channels not in (1, 3) or isinstance(channels, bool):
            raise WeightsError(f"The screener card's input_channels must be 1 or 3, not {channels!r}.")
        try:
            spec = PreprocessingSpec.from_dict(data["preprocessing"])
        except ValueError as error:
            raise WeightsError(f"The screener card's {error}") from error
        if spec.resize != size:
            raise WeightsError(
                f"The screener card's preprocessing resizes to {spec.resize}, not its input_size {size}."
            )
        for field in ("threshold", "target_sensitivity"):
            value = data[field]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise WeightsError(f"The screener card's {field} must be a number in [0, 1], not {value!r}.")
        if not isinstance(data["trained"], bool):
            raise WeightsError("The screener card's trained must be true or false.")
        if data["runtime"] != RUNTIME:
            raise WeightsError(f'The screener card\'s runtime must be "{RUNTIME}", not {data["runtime"]!r}.')
        digest = data.get("weights_sha256")
        if digest is not None and (not isinstance(digest, str) or len(digest) != 64):
            raise WeightsError("The screener card's weights_sha256 must be 64 hexadecimal digits.")
        training_data = data.get("training_data")
        if training_data is not None and not isinstance(training_data, str):
            raise WeightsError("The screener card's training_data must be a string.")
        validation = data.get("validation")
        if validation is not None and not isinstance(validation, dict):
            raise WeightsError("The screener card's validation must be a JSON object.")
        return cls(
            name=data["name"],
            version=data["version"],
            architecture=architecture,
            input_size=size,
            input_channels=channels,
            preprocessing=spec.to_dict(),
            threshold=float(data["threshold"]),
            target_sensitivity=float(data["target_sensitivity"]),
            trained=data["trained"],
            weights_sha256=digest,
            training_data=training_data,
            validation=json.loads(json.dumps(validation)) if validation is not None else None,
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the card as ``card.json``, atomically so a reader never sees half a card."""
        atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")


def screener_preprocessing(input_size: int, channels: int) -> dict[str, Any]:
    """The card's preprocessing: centre square crop, antialiased resize, grey levels in [-1, 1]."""
    colour = "greyscale" if channels == 1 else "rgb"
    return PreprocessingSpec(resize=input_size, scale=INPUT_SCALE, colour=colour).to_dict()


def untrained_screener_card(seed: int = UNTRAINED_SEED) -> ScreenerCard:
    """The card of the seeded, untrained InceptionV3 used when no screener weights are installed."""
    return ScreenerCard(
        name=default_screener_name(DEFAULT_ARCHITECTURE),
        version=f"{ARCHITECTURE_VERSION}-untrained-seed{seed}",
        architecture=DEFAULT_ARCHITECTURE,
        input_size=DEFAULT_INPUT_SIZE,
        input_channels=1,
        preprocessing=screener_preprocessing(DEFAULT_INPUT_SIZE, 1),
        threshold=UNTRAINED_THRESHOLD,
        target_sensitivity=DEFAULT_TARGET_SENSITIVITY,
        trained=False,
    )


def default_screener_name(architecture: str) -> str:
    return f"{architecture}-screener"


def describe_screener_model(weights_dir: str | os.PathLike[str] | None) -> ScreenerCard:
    """The card of the screener ``weights_dir`` holds, or the untrained one for None.

    Cheap: reads ``card.json`` and checks that the weights file is there; the weights' SHA-256
    is checked against the card when the screener is loaded. Raises WeightsError.
    """
    if weights_dir is None:
        return untrained_screener_card()
    directory = Path(weights_dir).expanduser()
    if not directory.is_dir():
        raise WeightsError(f"The screener weights directory {directory} does not exist or is not a folder.")
    card_path = directory / CARD_FILENAME
    try:
        data = json.loads(card_path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise WeightsError(f"The screener card {card_path} does not exist.") from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WeightsError(f"The screener card {card_path} cannot be read: {error}.") from error
    card = ScreenerCard.from_dict(data)
    if not (directory / WEIGHTS_FILENAME).is_file():
        raise WeightsError(f"The screener weights file {directory / WEIGHTS_FILENAME} does not exist.")
    return card


def verified_weights_sha256(directory: Path, card: ScreenerCard) -> str:
    """The weights file's SHA-256, refused (WeightsError) where it differs from the one the card records."""
    actual = sha256_file(directory / WEIGHTS_FILENAME)
    if card.weights_sha256 is not None and actual != card.weights_sha256:
        raise WeightsError(
            f"{directory / WEIGHTS_FILENAME} has SHA-256 {actual[:16]}..., not the card's "
            f"{card.weights_sha256[:16]}...: the weights were changed after the card was written."
        )
    return actual
