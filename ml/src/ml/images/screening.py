"""Input screening: is this decoded image a frontal chest radiograph the model may be shown?

It runs before inference and needs no trained DenseNet weights. The checks, cheapest first:

1. size: at least MIN_RADIOGRAPH_SIDE pixels a side;
2. colour: a colour photograph is refused (a radiograph saved as RGB with equal channels is grey);
3. shape and grey levels: radiographs are near-square and have smooth histograms, whereas
   documents, screenshots and logos are made of a few grey levels;
4. anatomy and orientation: the image, shrunk to 32x32 and standardised, is correlated with a
   template of frontal chest radiographs in each of eight orientations (four rotations, each
   with and without inverted grey levels). A chest radiograph matches one orientation well;
   which one says whether it is upright, rotated or inverted.

An inverted grey scale is corrected and flagged rather than refused: it is a labelling fault
(a MONOCHROME1/2 mix-up) that leaves the anatomy intact. Everything else is refused with a reason.
Measured rates are in the README ("Input screening"); ``python -m ml screening-report`` remeasures.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

import numpy as np
from PIL import Image

from ml.errors import ImageRejectedError
from ml.images.radiograph import Radiograph

MIN_RADIOGRAPH_SIDE = 256
# More coloured pixels than this is a colour image (JPEG noise on a grey image stays far below).
MAX_COLOUR_FRACTION = 0.01
# Chest radiographs are at most 17 x 14 inches either way; allow generous cropping.
ASPECT_RATIO_RANGE = (0.5, 2.0)
# Share of all pixels in the three most frequent grey levels: radiographs stay below 0.15
# (measured: at most 0.14), documents and screenshots are above 0.5.
MAX_HISTOGRAM_PEAK_SHARE = 0.25
# Correlation with the template below which an image is not a chest radiograph in any
# orientation (measured, leave-one-out: real radiographs at least 0.57; other pictures mostly
# below 0.47, one photograph at 0.55).
MIN_CHEST_SCORE = 0.50
THUMBNAIL_SIDE = 32
TEMPLATE_RESOURCE = "frontal_chest_template.npy"

UPRIGHT = "upright"
INVERTED = "inverted grey scale"


@dataclass(frozen=True)
class Screening:
    """How an accepted image looked to the screening, kept with the study."""

    orientation: str
    chest_score: float
    histogram_peak_share: float
    corrected: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def screen_radiograph(
    radiograph: Radiograph, template: np.ndarray | None = None
) -> tuple[Radiograph, Screening]:
    """Accept (possibly corrected) or raise ImageRejectedError with the reason."""
    if min(radiograph.width, radiograph.height) < MIN_RADIOGRAPH_SIDE:
        raise ImageRejectedError(
            f"The image is too small ({radiograph.width}x{radiograph.height} pixels): a radiograph needs "
            f"at least {MIN_RADIOGRAPH_SIDE} pixels a side.",
            reason="too small",
        )
    if radiograph.colour_fraction > MAX_COLOUR_FRACTION:
        raise ImageRejectedError("This is a colour photograph, not a radiograph.", reason="colour photograph")
    aspect = radiograph.width / radiograph.height
    if not ASPECT_RATIO_RANGE[0] <= aspect <= ASPECT_RATIO_RANGE[1]:
        raise not_a_chest_radiograph(
            f"its shape ({radiograph.width}x{radiograph.height}) is not a radiograph's"
        )
    peaks = histogram_peak_share(radiograph.pixels)
    if peaks > MAX_HISTOGRAM_PEAK_SHARE:
        raise not_a_chest_radiograph("it is made of a few flat grey levels, like a document or screenshot")

    scores = orientation_scores(radiograph.pixels, frontal_chest_template() if template is None else template)
    orientation = max(scores, key=scores.__getitem__)
    best = scores[orientation]
    if best < MIN_CHEST_SCORE or orientation.endswith(", inverted"):
        # A film both turned and grey-inverted is rare; other pictures land there by chance.
        raise not_a_chest_radiograph("it does not show the anatomy of a frontal chest radiograph")
    if orientation == INVERTED:
        corrected = radiograph.with_pixels((1.0 - radiograph.pixels).astype(np.float32))
        return corrected, Screening(INVERTED, round(best, 4), round(peaks, 4), corrected=INVERTED)
    if orientation != UPRIGHT:
        raise ImageRejectedError(
            f"The radiograph is rotated ({orientation}): upload it upright.", reason="rotated"
        )
    return radiograph, Screening(UPRIGHT, round(best, 4), round(peaks, 4))


def not_a_chest_radiograph(why: str) -> ImageRejectedError:
    return ImageRejectedError(f"This is not a chest radiograph: {why}.", reason="not a chest radiograph")


def histogram_peak_share(pixels: np.ndarray) -> float:
    levels = np.clip(np.rint(pixels * 255), 0, 255).astype(np.intp)
    counts = np.bincount(levels.ravel(), minlength=256)
    return float(np.sort(counts)[-3:].sum() / levels.size)


def thumbnail(pixels: np.ndarray) -> np.ndarray:
    """The image at THUMBNAIL_SIDE x THUMBNAIL_SIDE (area averaging), standardised."""
    small = Image.fromarray(pixels.astype(np.float32), mode="F").resize(
        (THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.BOX
    )
    values = np.asarray(small, dtype=np.float64)
    return (values - values.mean()) / (values.std() + 1e-6)


def orientations(image: np.ndarray) -> dict[str, np.ndarray]:
    """The eight ways an upright radiograph may arrive: turned k quarter-turns, and inverted."""
    views = {}
    for quarter_turns in range(4):
        # np.rot90 turns counter-clockwise, so an image turned clockwise by 90 degrees is undone by k=1.
        turned = np.rot90(image, quarter_turns)
        name = UPRIGHT if quarter_turns == 0 else f"turned {90 * quarter_turns} degrees clockwise"
        views[name] = turned
        views[INVERTED if quarter_turns == 0 else f"{name}, inverted"] = -turned
    return views


def orientation_scores(pixels: np.ndarray, template: np.ndarray) -> dict[str, float]:
    image = thumbnail(pixels)
    return {name: correlation(view, template) for name, view in orientations(image).items()}


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum() + 1e-12))


def build_template(radiographs: Iterable[np.ndarray]) -> np.ndarray:
    """The mean standardised thumbnail of upright frontal chest radiographs."""
    thumbnails = [thumbnail(pixels) for pixels in radiographs]
    if not thumbnails:
        raise ValueError("A template needs at least one radiograph.")
    mean = np.mean(thumbnails, axis=0)
    return ((mean - mean.mean()) / mean.std()).astype(np.float32)


@functools.cache
def frontal_chest_template() -> np.ndarray:
    """The shipped template, built by ``python -m ml screening-template`` (see ml/README.md)."""
    with resources.files("ml.images").joinpath("data", TEMPLATE_RESOURCE).open("rb") as handle:
        template = np.load(handle)
    if template.shape != (THUMBNAIL_SIDE, THUMBNAIL_SIDE):
        raise ValueError(
            f"The screening template has shape {template.shape}, not {THUMBNAIL_SIDE}x{THUMBNAIL_SIDE}."
        )
    return template
