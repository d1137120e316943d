"""Building and measuring the input screening: ``python -m ml screening-template`` and
``python -m ml screening-report``.

The report runs the screening on real radiographs (each judged against a template built from
the others, so no image is judged by a template it helped to make) and on images that are not
frontal chest radiographs: natural photographs and other pictures shipped with scikit-image,
documents, screenshots and noise made here, and the real radiographs rotated or inverted.
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ml.errors import ImageRejectedError
from ml.images.decoding import decode_radiograph
from ml.images.radiograph import Radiograph
from ml.images.screening import (
    INVERTED,
    MIN_CHEST_SCORE,
    UPRIGHT,
    build_template,
    correlation,
    film_content,
    orientation_scores,
    screen_radiograph,
    template_from_thumbnails,
    template_thumbnail,
)

# Pictures bundled with scikit-image (no download): photographs, microscopy, astronomy, a
# scanned page, text, logos and drawings.
SCIKIT_IMAGE_PICTURES = (
    "astronaut", "binary_blobs", "brick", "camera", "cat", "cell", "checkerboard", "chelsea", "clock",
    "coffee", "coins", "colorwheel", "grass", "gravel", "horse", "hubble_deep_field",
    "immunohistochemistry", "logo", "microaneurysms", "moon", "page", "retina", "rocket",
    "shepp_logan_phantom", "text",
)  # fmt: skip
# The kinds of images made by negative_examples: none of them may be accepted.
NEGATIVE_KINDS = ("picture", "document", "screenshot", "noise")
# Two thumbnails this alike are the same radiograph (e.g. one file saved twice).
DUPLICATE_CORRELATION = 0.99


@dataclass(frozen=True)
class Outcome:
    name: str
    kind: str
    expected: str
    verdict: str
    # The orientation that matched the template best, and its correlation (whatever the verdict).
    best_orientation: str
    chest_score: float

    @property
    def correct(self) -> bool:
        return self.verdict == self.expected


def add_screening_parsers(commands: argparse._SubParsersAction) -> None:
    template = commands.add_parser("screening-template", help="build the input screening's template")
    template.add_argument(
        "images", nargs="+", type=Path, metavar="IMAGE", help="upright frontal chest radiographs"
    )
    template.add_argument("--out", type=Path, required=True, help="where to write the .npy template")
    template.set_defaults(command=run_template)

    report = commands.add_parser("screening-report", help="measure the input screening's error rates")
    report.add_argument(
        "images", nargs="+", type=Path, metavar="IMAGE", help="real upright frontal chest radiographs"
    )
    report.add_argument(
        "--inverted",
        nargs="*",
        type=Path,
        default=[],
        metavar="IMAGE",
        help="real radiographs that decode inverted (also when among IMAGE)",
    )
    report.set_defaults(command=run_report)


def run_template(arguments: argparse.Namespace) -> int:
    template = build_template(decode_radiograph(path.read_bytes()).pixels for path in arguments.images)
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    np.save(arguments.out, template)
    print(f"Wrote a template from {len(arguments.images)} radiographs to {arguments.out}")
    return 0


def run_report(arguments: argparse.Namespace) -> int:
    outcomes = measure(arguments.images, arguments.inverted)
    print(format_report(outcomes))
    return 0


def verdict_of(radiograph: Radiograph, template: np.ndarray | None = None) -> str:
    """'accepted', 'accepted, inverted grey scale corrected' or 'refused: <reason>'."""
    try:
        _, screening = screen_radiograph(radiograph, template)
    except ImageRejectedError as error:
        return f"refused: {error.reason}"
    return "accepted" if screening.corrected is None else f"accepted, {screening.corrected} corrected"


def measure(upright_paths: list[Path], inverted_paths: list[Path]) -> list[Outcome]:
    """Screen real radiographs (and rotated or inverted copies of them) and other images.

    ``inverted_paths`` are real radiographs known to decode with inverted grey levels (such
    as a MONOCHROME1 file whose pixels were stored for MONOCHROME2): they should be accepted
    and corrected. Each real image is judged against a template of the others, leaving out
    its duplicates too, so no image is judged by a template it helped to make. A file named in
    both lists is an inverted one (so a folder can be given whole); a file name given twice
    (one film in two folders) counts once.
    """
    inverted_files = {path.resolve() for path in inverted_paths}
    upright_paths = [path for path in upright_paths if path.resolve() not in inverted_files]
    upright = {path.name: decode_radiograph(path.read_bytes()) for path in upright_paths}
    inverted = {path.name: decode_radiograph(path.read_bytes()) for path in inverted_paths}
    thumbnails = {name: template_thumbnail(radiograph.pixels) for name, radiograph in upright.items()}
    outcomes = []
    for name, radiograph in {**upright, **inverted}.items():
        as_upright = radiograph.pixels if name in upright else (1.0 - radiograph.pixels).astype(np.float32)
        template = leave_out_template(template_thumbnail(as_upright), thumbnails)
        expected = "accepted" if name in upright else f"accepted, {INVERTED} corrected"
        outcomes.append(outcome(name, "real radiograph", expected, radiograph, template))
        for quarter_turns in (1, 2, 3):
            turned = radiograph.with_pixels(np.ascontiguousarray(np.rot90(as_upright, -quarter_turns)))
            outcomes.append(
                outcome(name, f"rotated {90 * quarter_turns}", "refused: rotated", turned, template)
            )
        flipped = radiograph.with_pixels((1.0 - as_upright).astype(np.float32))
        outcomes.append(outcome(name, "inverted", f"accepted, {INVERTED} corrected", flipped, template))
    template = template_from_thumbnails(list(thumbnails.values()))
    for name, kind, radiograph in negative_examples():
        judged = outcome(name, kind, "refused", radiograph, template)
        outcomes.append(replace(judged, verdict=judged.verdict.split(":")[0]))
    return outcomes


def outcome(name: str, kind: str, expected: str, radiograph: Radiograph, template: np.ndarray) -> Outcome:
    scores = orientation_scores(film_content(radiograph.pixels), template)
    best = max(scores, key=scores.__getitem__)
    return Outcome(name, kind, expected, verdict_of(radiograph, template), best, scores[best])


def leave_out_template(own: np.ndarray, thumbnails: dict[str, np.ndarray]) -> np.ndarray:
    """A template of the upright radiographs' thumbnails other than this one and its duplicates'."""
    return template_from_thumbnails(
        [other for other in thumbnails.values() if abs(correlation(other, own)) < DUPLICATE_CORRELATION]
    )


def negative_examples() -> Iterator[tuple[str, str, Radiograph]]:
    try:
        import skimage.data
    except ImportError as error:
        raise SystemExit("The screening report needs scikit-image (pip install scikit-image).") from error
    for name in SCIKIT_IMAGE_PICTURES:
        picture = np.asarray(getattr(skimage.data, name)())
        yield name, "picture", radiograph_from_array(picture)
        if picture.ndim == 3:
            # The same picture without its colour, to test the anatomy check and not only the colour one.
            yield f"{name} (grey)", "picture", radiograph_from_array(grey(picture))
    rng = np.random.default_rng(0)
    for index in range(3):
        yield f"document {index}", "document", radiograph_from_array(document(rng))
        yield f"screenshot {index}", "screenshot", radiograph_from_array(screenshot(rng))
    yield "uniform noise", "noise", radiograph_from_array(rng.random((512, 512)))
    yield "gaussian noise", "noise", radiograph_from_array(np.clip(rng.normal(0.5, 0.2, (512, 512)), 0, 1))


def radiograph_from_array(picture: np.ndarray) -> Radiograph:
    """Any picture as the decoder would see it, after saving as PNG: colour kept if it has colour."""
    values = picture.astype(np.float64)
    values = values / (255.0 if values.max() > 1 else 1.0)
    eight_bit = np.clip(np.rint(values * 255), 0, 255).astype(np.uint8)
    if eight_bit.ndim == 3:
        eight_bit = eight_bit[..., :3]
    buffer = io.BytesIO()
    Image.fromarray(eight_bit).save(buffer, format="PNG")
    return decode_radiograph(buffer.getvalue())


def grey(picture: np.ndarray) -> np.ndarray:
    rgb = picture[..., :3].astype(np.float64)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def document(rng: np.random.Generator) -> np.ndarray:
    page = Image.new("L", (600, 800), 250)
    draw = ImageDraw.Draw(page)
    for top in range(40, 760, 22):
        draw.text(
            (40, top),
            "Discharge summary: the patient was seen in clinic today. " * 2,
            fill=int(rng.integers(0, 60)),
        )
    return np.asarray(page)


def screenshot(rng: np.random.Generator) -> np.ndarray:
    screen = Image.new("L", (1024, 768), int(rng.integers(200, 250)))
    draw = ImageDraw.Draw(screen)
    draw.rectangle((0, 0, 1024, 40), fill=60)
    draw.rectangle((0, 40, 200, 768), fill=120)
    for row in range(8):
        draw.rectangle(
            (240, 80 + row * 80, 980, 140 + row * 80), outline=30, fill=int(rng.integers(150, 255))
        )
        draw.text((260, 100 + row * 80), f"Worklist entry {row}", fill=20)
    return np.asarray(screen)


def format_report(outcomes: list[Outcome]) -> str:
    lines = ["| images | count | screened as expected | expected |", "| --- | --- | --- | --- |"]
    kinds = sorted({outcome.kind for outcome in outcomes}, key=lambda kind: (kind != "real radiograph", kind))
    for kind in kinds:
        group = [outcome for outcome in outcomes if outcome.kind == kind]
        right = sum(outcome.correct for outcome in group)
        lines.append(f"| {kind} | {len(group)} | {right} | {group[0].expected} |")
    real = [outcome for outcome in outcomes if outcome.kind == "real radiograph"]
    false_rejections = [outcome for outcome in real if outcome.verdict.startswith("refused")]
    others = [outcome for outcome in outcomes if outcome.kind != "real radiograph"]
    false_acceptances = [outcome for outcome in others if outcome.verdict == "accepted"]
    lines.append("")
    lines.append(f"False rejection rate: {len(false_rejections)}/{len(real)} real radiographs refused.")
    accepted = ", ".join(f"{outcome.name} ({outcome.kind})" for outcome in false_acceptances) or "none"
    lines.append(
        f"False acceptance rate: {len(false_acceptances)}/{len(others)} other images accepted as upright "
        f"radiographs ({accepted})."
    )
    lowest = min(real, key=lambda outcome: outcome.chest_score)
    lines.append(
        f"Lowest chest score of a real radiograph: {lowest.chest_score:.3f} ({lowest.name}); "
        f"the screening accepts from {MIN_CHEST_SCORE:.2f}."
    )
    matching = [
        outcome
        for outcome in others
        if outcome.kind in NEGATIVE_KINDS and outcome.best_orientation in (UPRIGHT, INVERTED)
    ]
    if matching:
        ranked = sorted(matching, key=lambda outcome: outcome.chest_score, reverse=True)[:3]
        lines.append(
            "Highest chest scores of other images that match upright or inverted: "
            + ", ".join(f"{outcome.chest_score:.3f} ({outcome.name})" for outcome in ranked)
            + "."
        )
    wrong_reason = [outcome for outcome in others if not outcome.correct and outcome.verdict != "accepted"]
    if wrong_reason:
        lines.append(
            "Refused or corrected, but not as expected: "
            + ", ".join(f"{outcome.name} ({outcome.kind}): {outcome.verdict}" for outcome in wrong_reason)
        )
    return "\n".join(lines)
