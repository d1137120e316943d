"""The screener's card: what a set of screener weights is, how to feed it, where it operates.

Readable without TensorFlow, so the web process can show it on every request. A card is
validated strictly when read, against the ``screener`` section of the one card schema
(``ml.cards``): unknown fields, a wrong kind, a threshold outside [0, 1] or an architecture
this package cannot build are refused with a WeightsError naming the field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ml.cards.base import Card
from ml.images.preprocessing import PreprocessingSpec, radiograph_preprocessing

SCREENER_WEIGHTS_ENV_VAR = "CXR_SCREENER_WEIGHTS"
KIND = "screener"
# The networks ``ml.screener.architectures`` builds, and the smallest input each accepts.
ARCHITECTURES: dict[str, int] = {"inceptionv3": 75, "elu-cnn": 32}
DEFAULT_INPUT_SIZES: dict[str, int] = {"inceptionv3": 299, "elu-cnn": 224}
DEFAULT_ARCHITECTURE = "inceptionv3"
DEFAULT_INPUT_SIZE = DEFAULT_INPUT_SIZES[DEFAULT_ARCHITECTURE]
DEFAULT_TARGET_SENSITIVITY = 0.95
# Keras on TensorFlow computes the screener (there is no OpenVINO form of it yet).
RUNTIME = "keras"
ARCHITECTURE_VERSION = "0.1.0"
UNTRAINED_SEED = 0
UNTRAINED_THRESHOLD = 0.5
# InceptionV3's own input convention: grey levels in [-1, 1].
INPUT_SCALE = (-1.0, 1.0)


@dataclass(frozen=True, kw_only=True)
class ScreenerCard(Card):
    """One screener's description; ``threshold`` was chosen on validation for ``target_sensitivity``."""

    KIND = KIND
    NOUN = "screener card"
    ENV_VAR = SCREENER_WEIGHTS_ENV_VAR
    INPUT_FIELDS = ("input_size", "input_channels", "preprocessing")
    IDENTITY_FIELDS = (
        "architecture",
        "input_size",
        "input_channels",
        "preprocessing",
        "threshold",
        "runtime",
        "weights_sha256",
    )

    architecture: str
    input_size: int
    input_channels: int
    preprocessing: dict[str, Any]
    threshold: float
    target_sensitivity: float
    runtime: str = RUNTIME

    @classmethod
    def untrained(cls) -> ScreenerCard:
        return untrained_screener_card()

    @property
    def spec(self) -> PreprocessingSpec:
        return PreprocessingSpec.from_dict(self.preprocessing)

    def _checked(self) -> ScreenerCard:
        preprocessing = radiograph_preprocessing(
            self.NOUN, self.preprocessing, self.input_size, self.input_channels
        )
        return dataclasses.replace(self, preprocessing=preprocessing)


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


# The card of the screener ``weights_dir`` holds, or the untrained one's for None.
describe_screener_model = ScreenerCard.describe
