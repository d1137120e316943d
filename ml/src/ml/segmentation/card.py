"""The segmentation model's card and weights directory, readable without any framework.

A segmentation weights directory holds ``card.json`` (this card) and ``model.weights.h5``
(the Keras weights of the network the card's ``architecture`` names). The web process may
describe the active model on every request, so nothing here imports TensorFlow. The card is
checked against the ``segmentation`` section of the one card schema (``ml.cards``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ml.cards.base import Card
from ml.images.preprocessing import IMAGENET_MEAN, IMAGENET_STD
from ml.segmentation.preprocessing import AREA
from ml.segmentation.structures import UNET_STRUCTURES

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


@dataclass(frozen=True, kw_only=True)
class SegmentationCard(Card):
    """What a segmentation model delineates, from what input, and how it was made.

    ``architecture`` is ``{"name": "unet-efficientnetb0", "decoder_filters": [...]}`` or
    ``{"name": "pspnet", "block_config": [3, 4, 23, 3]}``; ``preprocessing`` says how a
    radiograph becomes the network's input: the whole image stretched to ``input_size``
    square (no crop, so every pixel gets a label) by the resampling ``resize`` names
    (``ml.segmentation.preprocessing``; ``area`` where absent), grey levels in [0, 1] in three
    equal channels, then ``(value - mean) / std`` per channel.
    """

    KIND = KIND
    NOUN = "segmentation card"
    ENV_VAR = SEGMENTATION_WEIGHTS_ENV_VAR
    INPUT_FIELDS = ("input_size", "preprocessing")
    IDENTITY_FIELDS = (
        "architecture",
        "structures",
        "input_size",
        "preprocessing",
        "threshold",
        "weights_sha256",
    )

    architecture: dict[str, Any]
    structures: tuple[str, ...]
    input_size: int
    preprocessing: dict[str, Any]
    threshold: float = DEFAULT_THRESHOLD
    source: dict[str, Any] | None = None
    notes: str | None = None

    @classmethod
    def untrained(cls) -> SegmentationCard:
        return untrained_unet_card()


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


# The card of the segmentation model in ``weights_dir``, or the untrained U-Net's for None.
describe_segmentation_model = SegmentationCard.describe
