"""Input screening: is this decoded image a frontal chest radiograph the model may be shown?

It runs before inference and needs no trained DenseNet weights. The checks, cheapest first:

1. size: at least MIN_RADIOGRAPH_SIDE pixels a side;
2. colour: a colour photograph is refused (a radiograph saved as RGB with equal channels is grey);
3. shape and grey levels: radiographs are near-square and have smooth histograms, whereas
   documents, screenshots and logos are made of a few grey levels;
4. anatomy and orientation: the film's content, shrunk to 32x32 and standardised, is correlated
   with a template of frontal chest radiographs in each of eight orientations (four rotations,
   each with and without inverted grey levels). A chest radiograph matches one orientation well;
   which one says whether it is upright, rotated or inverted.

Checks 3 and 4 look at the film's content, not its frame: flat borders (black padding, a white
film edge, collimator shutters) are trimmed first. Left in, they made a few grey levels out of a
real film and moved its anatomy off the template, and were the main cause of real chest films
refused as "not a chest radiograph". A film framed tightly on the chest is also matched as if
framed a little wider (FRAMINGS), since the template's films show the shoulders and abdomen.

An inverted grey scale is corrected and flagged rather than refused: it is a labelling fault
(a MONOCHROME1/2 mix-up) that leaves the anatomy intact. Everything else is refused with a reason.
Measured rates are in the README ("Input screening"); ``python -m ml screening-report`` remeasures.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
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
# Share of the film content's pixels in its three most frequent grey levels. Measured on the
# content (borders trimmed): 175 real films at most 0.24 (burned-out white or black inside the
# film), documents, screenshots and logos at least 0.43; the limit lies in the middle.
MAX_HISTOGRAM_PEAK_SHARE = 0.35
# Correlation with the template below which an image is not a chest radiograph in any
# orientation. Measured (README, "Input screening"): 175 real frontal films score at least 0.50,
# other pictures that match upright or inverted at most 0.35 (and a rocket photograph 0.56);
# the threshold lies in the middle of that gap rather than against its real side.
MIN_CHEST_SCORE = 0.42
THUMBNAIL_SIDE = 32
# Borders are found on a copy this small (a border line a few pixels wide is still a line).
BORDER_SEARCH_SIDE = 256
# A border line: at least this share of its pixels within BORDER_TOLERANCE of the line's median.
BORDER_FLAT_SHARE = 0.9
BORDER_TOLERANCE = 0.04
# Trimming never keeps less than this share of either side (a flat image is not cropped away).
MIN_CONTENT_SHARE = 0.5
# The content as it is, and padded to 1.15 times its size (a film framed tightly on the chest).
FRAMINGS = (1.0, 1.15)
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
    content = film_content(radiograph.pixels)
    peaks = histogram_peak_share(content)
    if peaks > MAX_HISTOGRAM_PEAK_SHARE:
        raise not_a_chest_radiograph("it is made of a few flat grey levels, like a document or screenshot")

    scores = orientation_scores(content, frontal_chest_template() if template is None else template)
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


def film_content(pixels: np.ndarray) -> np.ndarray:
    """The image without its flat borders (padding, film edges, shutters): a view, not a copy."""
    top, bottom, left, right = content_bounds(pixels)
    return pixels[top:bottom, left:right]


def content_bounds(pixels: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of what lies inside the flat border lines at the image's edges."""
    small = np.asarray(
        Image.fromarray(pixels.astype(np.float32), mode="F").resize(
            (BORDER_SEARCH_SIDE, BORDER_SEARCH_SIDE), Image.Resampling.BOX
        ),
        dtype=np.float64,
    )
    side = BORDER_SEARCH_SIDE
    top, bottom, left, right = 0, side, 0, side
    minimum = int(np.ceil(MIN_CONTENT_SHARE * side))
    trimmed = True
    while trimmed:
        trimmed = False
        if bottom - top > minimum and _flat(small[top, left:right]):
            top, trimmed = top + 1, True
        if bottom - top > minimum and _flat(small[bottom - 1, left:right]):
            bottom, trimmed = bottom - 1, True
        if right - left > minimum and _flat(small[top:bottom, left]):
            left, trimmed = left + 1, True
        if right - left > minimum and _flat(small[top:bottom, right - 1]):
            right, trimmed = right - 1, True
    height, width = pixels.shape
    return top * height // side, bottom * height // side, left * width // side, right * width // side


def _flat(line: np.ndarray) -> bool:
    return bool(np.mean(np.abs(line - np.median(line)) <= BORDER_TOLERANCE) >= BORDER_FLAT_SHARE)


def thumbnail(pixels: np.ndarray) -> np.ndarray:
    """The image at THUMBNAIL_SIDE x THUMBNAIL_SIDE (area averaging), standardised."""
    small = Image.fromarray(pixels.astype(np.float32), mode="F").resize(
        (THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.BOX
    )
    values = np.asarray(small, dtype=np.float64)
    return (values - values.mean()) / (values.std() + 1e-6)


def framed(content: np.ndarray, scale: float) -> np.ndarray:
    """The content padded (its edges repeated) to ``scale`` times its size; itself at scale 1."""
    pad_rows = int(content.shape[0] * (scale - 1.0) / 2)
    pad_columns = int(content.shape[1] * (scale - 1.0) / 2)
    if pad_rows <= 0 and pad_columns <= 0:
        return content
    return np.pad(content, ((pad_rows, pad_rows), (pad_columns, pad_columns)), mode="edge")


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


def orientation_scores(content: np.ndarray, template: np.ndarray) -> dict[str, float]:
    """Each orientation's correlation with the template, the best of the film's FRAMINGS."""
    scores: dict[str, float] = {}
    for scale in FRAMINGS:
        for name, view in orientations(thumbnail(framed(content, scale))).items():
            scores[name] = max(scores.get(name, -1.0), correlation(view, template))
    return scores


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum() + 1e-12))


def template_thumbnail(pixels: np.ndarray) -> np.ndarray:
    """What a radiograph adds to a template: its film content's thumbnail."""
    return thumbnail(film_content(pixels))


def build_template(radiographs: Iterable[np.ndarray]) -> np.ndarray:
    """The mean standardised thumbnail of upright frontal chest radiographs' film content."""
    return template_from_thumbnails([template_thumbnail(pixels) for pixels in radiographs])


def template_from_thumbnails(thumbnails: Sequence[np.ndarray]) -> np.ndarray:
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
