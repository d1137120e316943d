"""The segmentation model's card and weights directory, readable without any framework.

A segmentation weights directory holds ``card.json`` (this card) and ``model.weights.h5``
(the Keras weights of the network the card's ``architecture`` names). The web process may
describe the active model on every request, so nothing here imports TensorFlow.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ml.errors import WeightsError
from ml.segmentation.preprocessing import AREA, RESIZES
from ml.segmentation.structures import KNOWN_STRUCTURES, UNET_STRUCTURES
from ml.weights.card import read_card_json, write_card_json
from ml.weights.importers import IMAGENET_MEAN, IMAGENET_STD
from ml.weights.registry import CARD_FILENAME, WEIGHTS_FILENAME, file_stamp, sha256_file

SEGMENTATION_WEIGHTS_ENV_VAR = "CXR_SEGMENTATION_WEIGHTS"
KIND = "segmentation"
ARCHITECTURES = ("unet-efficientnetb0", "pspnet")
UNET_NAME = "unet-efficientnetb0-anatomy"
# Bumped whenever the U-Net or its untrained initialisation changes: the untrained
# model's results are identified by this version, not by a weights hash.
UNET_ARCHITECTURE_VERSION = "0.1.0"
UNTRAINED_SEED = 0
# 256 rather than the 512 of published models: a CPU worker segments a radiograph in a
# fraction of a second at 256 (the encoder's cost grows with the pixel count), and the
# cardiothoracic ratio needs the outlines of heart and lungs, not fine detail.
UNET_INPUT_SIZE = 256
UNET_INPUT_NOTE = (
    "256x256 input for CPU speed: about four times cheaper than 512, enough for the outlines of "
    "heart and lungs that the cardiothoracic ratio is measured on."
)
# A pixel belongs to a structure when its sigmoid probability reaches this (logit >= 0).
DEFAULT_THRESHOLD = 0.5

_REQUIRED = (
    "name",
    "version",
    "kind",
    "architecture",
    "structures",
    "input_size",
    "preprocessing",
    "trained",
)
_OPTIONAL = ("threshold", "weights_sha256", "training_data", "validation", "source", "notes")


@dataclass(frozen=True)
class SegmentationCard:
    """What a segmentation model delineates, from what input, and how it was made.

    ``architecture`` is ``{"name": "unet-efficientnetb0", "decoder_filters": [...]}`` or
    ``{"name": "pspnet", "block_config": [3, 4, 23, 3]}``; ``preprocessing`` says how a
    radiograph becomes the network's input: the whole image stretched to ``input_size``
    square (no crop, so every pixel gets a label) by the resampling ``resize`` names
    (``ml.segmentation.preprocessing``; ``area`` where absent), grey levels in [0, 1] in three
    equal channels, then ``(value - mean) / std`` per channel.
    """

    name: str
    version: str
    architecture: dict[str, Any]
    structures: tuple[str, ...]
    input_size: int
    preprocessing: dict[str, Any]
    trained: bool
    threshold: float = DEFAULT_THRESHOLD
    weights_sha256: str | None = None
    training_data: str | None = None
    validation: dict[str, Any] | None = None
    source: dict[str, Any] | None = None
    notes: str | None = None
    kind: str = field(default=KIND)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy in the layout of ``card.json``."""
        return json.loads(
            json.dumps(
                {
                    "name": self.name,
                    "version": self.version,
                    "kind": self.kind,
                    "architecture": self.architecture,
                    "structures": list(self.structures),
                    "input_size": self.input_size,
                    "preprocessing": self.preprocessing,
                    "threshold": self.threshold,
                    "trained": self.trained,
                    "weights_sha256": self.weights_sha256,
                    "training_data": self.training_data,
                    "validation": self.validation,
                    "source": self.source,
                    "notes": self.notes,
                }
            )
        )

    @classmethod
    def from_dict(cls, data: Any) -> SegmentationCard:
        """Validate parsed JSON; raise WeightsError naming the first bad, missing or unknown field."""
        if not isinstance(data, dict):
            raise WeightsError("The segmentation card must be a JSON object.")
        missing = [name for name in _REQUIRED if name not in data]
        if missing:
            raise WeightsError(f"The segmentation card is missing the field(s): {', '.join(missing)}.")
        unknown = sorted(set(data) - set(_REQUIRED) - set(_OPTIONAL))
        if unknown:
            raise WeightsError(f"The segmentation card has unknown field(s): {', '.join(unknown)}.")
        if data["kind"] != KIND:
            raise WeightsError(
                f"The card's kind is {data['kind']!r}, not {KIND!r}: not a segmentation model."
            )
        for name in ("name", "version"):
            if not isinstance(data[name], str) or not data[name].strip():
                raise WeightsError(f"The segmentation card's {name} must be a non-empty string.")
        architecture = data["architecture"]
        if not isinstance(architecture, dict) or architecture.get("name") not in ARCHITECTURES:
            raise WeightsError(
                f"The segmentation card's architecture.name must be one of {', '.join(ARCHITECTURES)}."
            )
        structures = data["structures"]
        if (
            not isinstance(structures, list)
            or not structures
            or len(set(structures)) != len(structures)
            or any(name not in KNOWN_STRUCTURES for name in structures)
        ):
            raise WeightsError(
                "The segmentation card's structures must be distinct names among "
                f"{', '.join(KNOWN_STRUCTURES)}."
            )
        size = data["input_size"]
        if isinstance(size, bool) or not isinstance(size, int) or size < 32 or size % 32:
            raise WeightsError("The segmentation card's input_size must be a multiple of 32, at least 32.")
        preprocessing = data["preprocessing"]
        required = {"fit", "scale", "mean", "std"}
        if not isinstance(preprocessing, dict) or not required <= set(preprocessing) <= {*required, "resize"}:
            raise WeightsError(
                "The segmentation card's preprocessing must have fit, scale, mean, std (and may have resize)."
            )
        if preprocessing.get("resize", AREA) not in RESIZES:
            raise WeightsError(
                f"The segmentation card's preprocessing.resize must be one of {', '.join(RESIZES)}."
            )
        if preprocessing["fit"] != "stretch" or preprocessing["scale"] != [0, 1]:
            raise WeightsError('The segmentation card\'s preprocessing must be fit "stretch", scale [0, 1].')
        for key in ("mean", "std"):
            values = preprocessing[key]
            if (
                not isinstance(values, list)
                or len(values) != 3
                or not all(_positive_or_zero(v) for v in values)
            ):
                raise WeightsError(f"The segmentation card's preprocessing.{key} must be three numbers.")
        if not all(value > 0 for value in preprocessing["std"]):
            raise WeightsError("The segmentation card's preprocessing.std must be positive.")
        threshold = data.get("threshold", DEFAULT_THRESHOLD)
        if not _positive_or_zero(threshold) or not 0.0 < threshold < 1.0:
            raise WeightsError("The segmentation card's threshold must lie in (0, 1).")
        if not isinstance(data["trained"], bool):
            raise WeightsError("The segmentation card's trained must be true or false.")
        for name in ("weights_sha256", "training_data", "notes"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise WeightsError(f"The segmentation card's {name} must be a string or null.")
        for name in ("validation", "source"):
            if data.get(name) is not None and not isinstance(data[name], dict):
                raise WeightsError(f"The segmentation card's {name} must be an object or null.")
        return cls(
            name=data["name"],
            version=data["version"],
            architecture=json.loads(json.dumps(architecture)),
            structures=tuple(structures),
            input_size=size,
            preprocessing=json.loads(json.dumps(preprocessing)),
            trained=data["trained"],
            threshold=float(threshold),
            weights_sha256=data.get("weights_sha256"),
            training_data=data.get("training_data"),
            validation=data.get("validation"),
            source=data.get("source"),
            notes=data.get("notes"),
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SegmentationCard:
        """Read and validate a segmentation ``card.json``."""
        return cls.from_dict(read_card_json(path))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the card as ``card.json``, atomically."""
        write_card_json(path, self.to_dict())


def imagenet_preprocessing(resize: str = AREA) -> dict[str, Any]:
    """The card's preprocessing: stretched by ``resize``, in [0, 1], standardised by ImageNet's statistics."""
    return {
        "fit": "stretch",
        "resize": resize,
        "scale": [0, 1],
        "mean": list(IMAGENET_MEAN),
        "std": list(IMAGENET_STD),
    }


def untrained_unet_card(
    structures: tuple[str, ...] = UNET_STRUCTURES,
    input_size: int = UNET_INPUT_SIZE,
    seed: int = UNTRAINED_SEED,
) -> SegmentationCard:
    """The card of the seeded, untrained U-Net run when no segmentation weights are installed."""
    return SegmentationCard(
        name=UNET_NAME,
        version=f"{UNET_ARCHITECTURE_VERSION}-untrained-seed{seed}",
        architecture=unet_architecture(),
        structures=structures,
        input_size=input_size,
        preprocessing=imagenet_preprocessing(),
        trained=False,
        notes=UNET_INPUT_NOTE,
    )


def unet_architecture(
    decoder_filters: tuple[int, ...] = (256, 128, 64, 32, 16), encoder_scale: tuple[float, float] = (1.0, 1.0)
) -> dict[str, Any]:
    """The U-Net's card entry; ``encoder_scale`` multiplies EfficientNetB0's width and depth ((1, 1): B0)."""
    return {
        "name": "unet-efficientnetb0",
        "decoder_filters": list(decoder_filters),
        "encoder_scale": [float(value) for value in encoder_scale],
    }


def describe_segmentation_model(weights_dir: str | os.PathLike[str] | None) -> SegmentationCard:
    """The card of the segmentation model in ``weights_dir``, or the untrained U-Net's for None.

    Cheap (no framework import). The returned card's ``weights_sha256`` is that of the
    directory's ``model.weights.h5``, which must agree with the card's when it records one.
    """
    if weights_dir is None:
        return untrained_unet_card()
    directory = Path(weights_dir).expanduser().resolve()
    if not directory.is_dir():
        raise WeightsError(
            f"The segmentation weights directory {directory} does not exist or is not a directory."
        )
    # The weights (270 MB for the PSPNet) are hashed once per version of the files, not per call.
    # Copying keeps callers' hands off the cached card's dictionaries.
    return copy.deepcopy(
        _describe_directory(
            str(directory),
            file_stamp(directory / CARD_FILENAME, directory),
            file_stamp(directory / WEIGHTS_FILENAME, directory),
        )
    )


# The stamps are arguments only so that they take part in the cache key.
@functools.lru_cache(maxsize=8)
def _describe_directory(
    directory: str, card_stamp: tuple[int, int, int], weights_stamp: tuple[int, int, int]
) -> SegmentationCard:
    card = SegmentationCard.load(Path(directory) / CARD_FILENAME)
    weights = Path(directory) / WEIGHTS_FILENAME
    actual = sha256_file(weights)
    if card.weights_sha256 is not None and card.weights_sha256 != actual:
        raise WeightsError(
            f"{weights} has SHA-256 {actual}, but its card records {card.weights_sha256}: "
            "the weights file was changed or replaced after the card was written."
        )
    return replace(card, weights_sha256=actual)


def segmentation_weights_dir_from_env(environ: dict[str, str] | None = None) -> Path | None:
    """The directory named by ``$CXR_SEGMENTATION_WEIGHTS``, or None when unset or empty."""
    value = (os.environ if environ is None else environ).get(SEGMENTATION_WEIGHTS_ENV_VAR, "").strip()
    return Path(value) if value else None


def _positive_or_zero(value: Any) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    )
