"""Turn a decoded radiograph into the tensor the network reads, as the model card describes.

The default pipeline follows torchxrayvision's convention (greyscale, centre square crop,
resize, grey levels scaled to [-1024, 1024]) so that weights imported from that family run
through exactly the steps they were trained with. Weights trained on ImageNet-style input
(CheXNet) say so in their card: colour "rgb" (the grey level repeated in all three
channels, as Pillow's RGB conversion of a grey image does), scale [0, 1], then per-channel
``(value - mean) / std``. Resizing uses Pillow, whose resampling filters widen with the
reduction factor, i.e. they antialias when shrinking a 1024-pixel radiograph to 224 pixels.
Nothing here imports TensorFlow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from ml.errors import WeightsError
from ml.images.radiograph import Radiograph

# Pillow's antialiasing filters by the names a card may use.
RESAMPLING_FILTERS: dict[str, Image.Resampling] = {
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
}

# The only values of the descriptive keys this module implements; a card that asks for
# anything else is refused rather than silently run through a different pipeline.
# ImageNet's per-channel statistics, which networks pretrained on it (and checkpoints imported from
# them) standardise their inputs with.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SUPPORTED_COLOUR = "greyscale"
COLOUR_CHANNELS = {"greyscale": 1, "rgb": 3}
SUPPORTED_CROP = "centre square"


@dataclass(frozen=True)
class PreprocessingSpec:
    """The preprocessing steps of a model card, parsed and checked.

    ``mean`` and ``std`` (both or neither, one value or one per channel) standardise the
    scaled values channel by channel; without them the scaled values go in as they are.
    """

    resize: int
    scale: tuple[float, float]
    resample: str = "bilinear"
    colour: str = SUPPORTED_COLOUR
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None

    @classmethod
    def from_dict(cls, data: Any) -> PreprocessingSpec:
        """Parse a card's ``preprocessing`` mapping; raise ValueError naming the bad key."""
        if not isinstance(data, dict):
            raise ValueError("preprocessing must be a JSON object.")
        unknown = set(data) - {"colour", "crop", "resize", "resample", "scale", "mean", "std"}
        if unknown:
            raise ValueError(f"preprocessing has unknown keys: {', '.join(sorted(unknown))}.")
        colour = data.get("colour")
        if colour not in COLOUR_CHANNELS:
            raise ValueError(
                f"preprocessing.colour must be one of {', '.join(COLOUR_CHANNELS)}, not {colour!r}."
            )
        if data.get("crop") != SUPPORTED_CROP:
            raise ValueError(f'preprocessing.crop must be "{SUPPORTED_CROP}", not {data.get("crop")!r}.')
        resize = data.get("resize")
        if isinstance(resize, bool) or not isinstance(resize, int) or resize < 32:
            raise ValueError(f"preprocessing.resize must be an integer of at least 32, not {resize!r}.")
        resample = data.get("resample", "bilinear")
        if resample not in RESAMPLING_FILTERS:
            raise ValueError(
                f"preprocessing.resample must be one of {', '.join(RESAMPLING_FILTERS)}, not {resample!r}."
            )
        scale = data.get("scale")
        if (
            not isinstance(scale, list | tuple)
            or len(scale) != 2
            or not all(_is_number(v) for v in scale)
            or not scale[0] < scale[1]
        ):
            raise ValueError(f"preprocessing.scale must be [low, high] with low < high, not {scale!r}.")
        if ("mean" in data) != ("std" in data):
            raise ValueError("preprocessing.mean and preprocessing.std go together: give both or neither.")
        mean = std = None
        if "mean" in data:
            mean = _per_channel(data["mean"], "mean", COLOUR_CHANNELS[colour])
            std = _per_channel(data["std"], "std", COLOUR_CHANNELS[colour])
            if len(mean) != len(std) or not all(value > 0 for value in std):
                raise ValueError("preprocessing.std must match preprocessing.mean in length and be positive.")
        return cls(
            resize=resize,
            scale=(float(scale[0]), float(scale[1])),
            resample=resample,
            colour=colour,
            mean=mean,
            std=std,
        )

    @property
    def channels(self) -> int:
        """How many channels the colour mode feeds the network."""
        return COLOUR_CHANNELS[self.colour]

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able description stored in a model card."""
        description: dict[str, Any] = {
            "colour": self.colour,
            "crop": SUPPORTED_CROP,
            "resize": self.resize,
            "resample": self.resample,
            "scale": [self.scale[0], self.scale[1]],
        }
        # Written only when set, so that cards of the default pipeline (and the identity of
        # the results they produced) stay exactly as they were.
        if self.mean is not None and self.std is not None:
            description["mean"] = list(self.mean)
            description["std"] = list(self.std)
        return description


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _per_channel(value: Any, key: str, channels: int) -> tuple[float, ...]:
    if (
        not isinstance(value, list | tuple)
        or len(value) not in (1, channels)
        or not all(map(_is_number, value))
    ):
        raise ValueError(f"preprocessing.{key} must list 1 or {channels} numbers, not {value!r}.")
    return tuple(float(v) for v in value)


def default_preprocessing(input_size: int = 224) -> dict[str, Any]:
    """The card description of the torchxrayvision-style pipeline at ``input_size``."""
    return PreprocessingSpec(resize=input_size, scale=(-1024.0, 1024.0)).to_dict()


@dataclass(frozen=True)
class CropBox:
    """A square region of a radiograph, in its pixel coordinates."""

    left: int
    top: int
    size: int

    @property
    def right(self) -> int:
        return self.left + self.size

    @property
    def bottom(self) -> int:
        return self.top + self.size


def frame_to_array(crop: CropBox, width: int, height: int) -> np.ndarray:
    """A crop and the radiograph's size as five integers, for files that store where maps belong."""
    return np.array([crop.left, crop.top, crop.size, width, height])


def frame_from_array(values: np.ndarray) -> tuple[CropBox, int, int]:
    """The crop, width and height that ``frame_to_array`` stored."""
    left, top, size, width, height = (int(value) for value in values)
    return CropBox(left=left, top=top, size=size), width, height


def centre_square_crop(width: int, height: int) -> CropBox:
    """The largest centred square of a ``width`` x ``height`` image."""
    if width < 1 or height < 1:
        raise ValueError(f"An image must be at least 1x1 pixels, not {width}x{height}.")
    size = min(width, height)
    return CropBox(left=(width - size) // 2, top=(height - size) // 2, size=size)


@dataclass(frozen=True)
class ModelInput:
    """A network input and the crop it came from, to map explanations back onto the image."""

    tensor: np.ndarray
    crop: CropBox


def prepare_input(radiograph: Radiograph, spec: PreprocessingSpec, channels: int = 1) -> ModelInput:
    """Crop, resize and scale ``radiograph`` into a float32 tensor of shape (1, S, S, channels)."""
    if channels < 1:
        raise ValueError(f"channels must be at least 1, not {channels}.")
    crop = centre_square_crop(radiograph.width, radiograph.height)
    square = radiograph.pixels[crop.top : crop.bottom, crop.left : crop.right]
    # Pillow's mode "F" keeps the full float precision of 16-bit sources through the resize.
    # Cropping first (rather than resize's box argument, whose filter reaches past the box)
    # makes the input depend only on the crop, as the card says.
    resized = Image.fromarray(np.ascontiguousarray(square)).resize(
        (spec.resize, spec.resize), resample=RESAMPLING_FILTERS[spec.resample]
    )
    # Bicubic and Lanczos overshoot at sharp edges; clipping keeps the scaled range exact.
    unit = np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)
    low, high = spec.scale
    scaled = unit * np.float32(high - low) + np.float32(low)
    tensor = np.repeat(scaled[np.newaxis, :, :, np.newaxis], channels, axis=-1).astype(np.float32)
    if spec.mean is not None and spec.std is not None:
        mean = np.asarray(spec.mean, dtype=np.float32)
        std = np.asarray(spec.std, dtype=np.float32)
        if mean.size not in (1, channels):
            raise ValueError(f"The preprocessing has {mean.size} means for {channels} channels.")
        tensor = ((tensor - mean) / std).astype(np.float32)
    return ModelInput(tensor=tensor, crop=crop)


def radiograph_preprocessing(
    noun: str, preprocessing: dict[str, Any], input_size: int, input_channels: int
) -> dict[str, Any]:
    """A radiograph network's ``preprocessing`` with its defaults filled in, checked against the
    card's input (``ml.images.preprocessing.PreprocessingSpec``; the classifier's and the screener's)."""
    try:
        spec = PreprocessingSpec.from_dict(preprocessing)
    except ValueError as error:
        raise WeightsError(f"The {noun}'s {error}") from error
    if spec.colour == "rgb" and input_channels != 3:
        raise WeightsError(
            f'The {noun}\'s preprocessing.colour "rgb" needs input_channels 3, not {input_channels}.'
        )
    if spec.resize != input_size:
        raise WeightsError(
            f"The {noun}'s preprocessing.resize ({spec.resize}) differs from its input_size ({input_size})."
        )
    return spec.to_dict()
