"""The DICOM greyscale pipeline: stored pixel values to display grey levels in [0, 1].

Stored values go through the Modality LUT (Rescale Slope/Intercept or a Modality LUT Sequence),
the VOI LUT (a window, or a VOI LUT Sequence) and the presentation (MONOCHROME1 or Presentation
LUT Shape INVERSE), as PS3.3 C.11 and PS3.4 N.2 describe. Each stage's output range is read from
the header, never from the image: the range after windowing depends on the modality stage before it
(pydicom's windowing answers in the modality output range, which a rescale or a Modality LUT
Sequence moves away from the stored bit range), and a VOI LUT Sequence answers in its own entry
depth. Windows are computed here straight into [0, 1], so no range has to be guessed for them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.pixels import apply_modality_lut, apply_voi


@dataclass(frozen=True)
class GreyLevels:
    """Values of one stage of the pipeline and the range that stage can answer in."""

    values: np.ndarray
    low: float
    high: float

    def to_unit_range(self) -> np.ndarray:
        span = max(self.high - self.low, 1e-12)
        return np.clip((self.values - self.low) / span, 0.0, 1.0)


def display_grey_levels(stored: np.ndarray, dataset: Dataset) -> np.ndarray:
    """Grey levels in [0, 1] (1 is bright) of a greyscale image's stored values."""
    pixels = voi_output(modality_output(stored, dataset), dataset).to_unit_range()
    if is_inverted(dataset):
        pixels = 1.0 - pixels
    return pixels


def stored_range(dataset: Dataset) -> tuple[float, float]:
    bits_stored = int(dataset.get("BitsStored", 8) or 8)
    if int(dataset.get("PixelRepresentation", 0) or 0) == 1:
        return -(2.0 ** (bits_stored - 1)), 2.0 ** (bits_stored - 1) - 1
    return 0.0, 2.0**bits_stored - 1


def lut_depth(item: Dataset) -> int:
    """Bits per entry of a LUT: the third value of its LUT Descriptor."""
    return int(item.LUTDescriptor[2])


def modality_output(stored: np.ndarray, dataset: Dataset) -> GreyLevels:
    """The Modality LUT stage: a LUT Sequence answers in its entry depth, a rescale moves the stored range."""
    if dataset.get("ModalityLUTSequence"):
        values = apply_modality_lut(stored, dataset).astype(np.float64)
        return GreyLevels(values, 0.0, 2.0 ** lut_depth(dataset.ModalityLUTSequence[0]) - 1)
    slope = float(dataset.get("RescaleSlope", 1) or 1)
    intercept = float(dataset.get("RescaleIntercept", 0) or 0)
    low, high = (value * slope + intercept for value in stored_range(dataset))
    values = stored.astype(np.float64) * slope + intercept
    # A negative slope turns the range around.
    return GreyLevels(values, min(low, high), max(low, high))


def voi_output(modality: GreyLevels, dataset: Dataset) -> GreyLevels:
    """The VOI LUT stage (the first, default view of several): a LUT Sequence, else a window, else none."""
    if dataset.get("VOILUTSequence"):
        # A VOI LUT is indexed by whole modality values.
        indices = np.rint(modality.values).astype(np.int64)
        values = apply_voi(indices, dataset, index=0).astype(np.float64)
        return GreyLevels(values, 0.0, 2.0 ** lut_depth(dataset.VOILUTSequence[0]) - 1)
    if "WindowCenter" in dataset and "WindowWidth" in dataset:
        centre = float(first_value(dataset.WindowCenter))
        width = float(first_value(dataset.WindowWidth))
        function = str(dataset.get("VOILUTFunction", "LINEAR") or "LINEAR").upper()
        return GreyLevels(window(modality.values, centre=centre, width=width, function=function), 0.0, 1.0)
    return modality


def first_value(value: object) -> object:
    return value[0] if isinstance(value, MultiValue | list | tuple) else value


def window(values: np.ndarray, *, centre: float, width: float, function: str) -> np.ndarray:
    """A VOI window into [0, 1], by the formulas of PS3.3 C.11.2.1.2 (LINEAR, LINEAR_EXACT, SIGMOID)."""
    if function == "SIGMOID":
        return 1.0 / (1.0 + np.exp(-4.0 * (values - centre) / max(width, 1e-12)))
    if function == "LINEAR_EXACT":
        return np.clip((values - centre) / max(width, 1e-12) + 0.5, 0.0, 1.0)
    # LINEAR (the default): the width must be at least 1.
    return np.clip((values - (centre - 0.5)) / max(width - 1.0, 1e-12) + 0.5, 0.0, 1.0)


def is_inverted(dataset: Dataset) -> bool:
    """Whether the lowest value is shown white.

    MONOCHROME1 says so, and so does Presentation LUT Shape INVERSE, which DX images pair with
    MONOCHROME1 to mean the same single inversion (PS3.3 C.8.11.1.1.2), never a second one.
    """
    photometric = str(dataset.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    shape = str(dataset.get("PresentationLUTShape", "IDENTITY") or "IDENTITY").upper()
    return photometric == "MONOCHROME1" or shape == "INVERSE"
