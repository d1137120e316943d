"""``python -m ml localize``: Grad-CAM boxes against ChestX-ray14's ground-truth boxes.

For each image of the box file the installed model's Grad-CAM heatmaps are computed
exactly as the service computes them (through ``ml.pipeline``: heatmaps brought to the
image's own pixels), boxes are drawn around the hottest regions, and per finding the
pointing hit rate, mean IoU/IoBB and the accuracy and AFP at IoU and IoBB thresholds 0.1
to 0.5 are reported, as in Wang et al. 2017, Table 4.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from ml.cli_options import add_screening_switch
from ml.errors import DataError


def add_localize_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``localize`` subcommand."""
    from ml.classifier.registry import WEIGHTS_ENV_VAR

    parser = subparsers.add_parser(
        "localize",
        help="Grad-CAM localisation against ChestX-ray14 boxes (hit rate, IoU/IoBB)",
        description=(
            "Compare the model's Grad-CAM heatmaps with ground-truth boxes (BBox_List_2017.csv layout, "
            "in the image files' pixels). Writes OUT/localization.json and OUT/report.md."
        ),
    )
    parser.add_argument("--boxes", type=Path, required=True, metavar="FILE.csv", help="BBox_List_2017.csv")
    parser.add_argument(
        "--images",
        type=Path,
        metavar="DIR",
        help="image folder, searched recursively (default: the boxes' folder)",
    )
    parser.add_argument(
        "--weights", type=Path, metavar="DIR", help=f"weights directory (default ${WEIGHTS_ENV_VAR})"
    )
    parser.add_argument("--out", type=Path, required=True, metavar="OUT", help="output folder")
    parser.add_argument(
        "--heatmap-threshold",
        type=float,
        default=0.5,
        metavar="F",
        help="regions where the heatmap reaches this fraction of its maximum become boxes (0.5)",
    )
    add_screening_switch(parser)
    parser.set_defaults(command=run_localize)


def run_localize(arguments: argparse.Namespace) -> int:
    from ml.classifier.card import ModelCard
    from ml.classifier.registry import describe_active_model
    from ml.localization.boxes import read_boxes
    from ml.localization.metrics import THRESHOLDS, assess, summarise
    from ml.training.tables import index_images, name_key

    if not 0.0 < arguments.heatmap_threshold <= 1.0:
        raise DataError(f"--heatmap-threshold must lie in (0, 1], not {arguments.heatmap_threshold}.")
    boxes = read_boxes(arguments.boxes)
    weights_dir = arguments.weights if arguments.weights is not None else ModelCard.weights_dir_from_env()
    card = describe_active_model(weights_dir)
    label_of = {name_key(label): label for label in card.labels}
    by_image: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    unknown: dict[str, int] = defaultdict(int)
    for box in boxes:
        label = label_of.get(name_key(box.finding))
        if label is None:
            unknown[box.finding] += 1
        else:
            by_image[box.image][label].append(box)
    if not by_image:
        raise DataError(
            f"No box of {arguments.boxes} is for a finding of the model ({', '.join(card.labels)})."
        )
    root = arguments.images if arguments.images is not None else arguments.boxes.parent
    index = index_images(root)
    missing = [image for image in by_image if Path(image).name not in index]
    if len(missing) == len(by_image):
        raise DataError(f"None of the images of {arguments.boxes} is under {root}.")
    if unknown:
        _warn(f"boxes of findings the model lacks, skipped: {dict(unknown)}.")
    if missing:
        _warn(f"{len(missing)} image(s) of {arguments.boxes} are not under {root}; skipped.")
    if not card.trained:
        _warn("the model is UNTRAINED: its heatmaps localise nothing.")

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from ml.errors import ImageError
    from ml.pipeline import Pipeline

    pipeline = Pipeline(weights_dir)
    images = [image for image in by_image if image not in missing]
    bar = keras.utils.Progbar(len(images), unit_name="image") if sys.stdout.isatty() else None
    results = []
    for number, image in enumerate(images, start=1):
        path = index[Path(image).name]
        try:
            heatmaps = pipeline(path.read_bytes(), screen=not arguments.no_screening).heatmaps
        except (OSError, ImageError) as error:
            raise DataError(f"{path}: {error}") from error
        for label, label_boxes in by_image[image].items():
            heatmap = heatmaps.at_radiograph_size(label)
            results.append(assess(image, label, heatmap, label_boxes, arguments.heatmap_threshold))
        if bar is not None:
            bar.update(number)
    findings = summarise(results, THRESHOLDS)
    findings = {label: findings[label] for label in card.labels if label in findings}
    document = _json_values(
        {
            "model": {
                "name": pipeline.engine.card.name,
                "version": pipeline.engine.card.version,
                "weights_sha256": pipeline.engine.card.weights_sha256,
                "trained": pipeline.engine.card.trained,
            },
            "boxes_file": str(arguments.boxes),
            "images": len(images),
            "heatmap_threshold": arguments.heatmap_threshold,
            "input_screening": "off" if arguments.no_screening else "on",
            "thresholds": list(THRESHOLDS),
            "skipped": {"findings_not_in_model": dict(unknown), "missing_images": len(missing)},
            "findings": findings,
        }
    )
    arguments.out.mkdir(parents=True, exist_ok=True)
    (arguments.out / "localization.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    (arguments.out / "report.md").write_text(_markdown(document), encoding="utf-8")
    print(_markdown_table(document))
    print(f"Wrote {arguments.out / 'localization.json'} and {arguments.out / 'report.md'}.")
    return 0


def _markdown(document: dict[str, Any]) -> str:
    model = document["model"]
    lines = [
        "# Grad-CAM localisation",
        "",
        f"- model: {model['name']} {model['version']} (weights sha256 {model['weights_sha256']}"
        f"{', UNTRAINED' if not model['trained'] else ''})",
        f"- boxes: `{document['boxes_file']}`, {document['images']} images",
        f"- detected boxes: regions where a heatmap reaches {document['heatmap_threshold']:g} of its maximum "
        "(8-connected)",
        "- a ground-truth box is localised at T when a detected box of its finding has IoU (or IoBB, the "
        "intersection over the detected box's area) > T; AFP is the mean number of detected boxes that "
        "localise nothing, per image and finding; the hit rate is the share of boxes containing the "
        "heatmap's peak",
        "",
        _markdown_table(document),
        "",
    ]
    return "\n".join(lines)


def _markdown_table(document: dict[str, Any]) -> str:
    findings = document["findings"]
    names = list(findings)
    lines = [
        "| T | " + " | ".join(names) + " |",
        "| --- |" + " ---: |" * len(names),
        "| boxes | " + " | ".join(str(findings[name]["boxes"]) for name in names) + " |",
        "| hit rate | " + " | ".join(_cell(findings[name]["hit_rate"]) for name in names) + " |",
        "| mean IoU | " + " | ".join(_cell(findings[name]["mean_iou"]) for name in names) + " |",
    ]
    for criterion, title in (("iou", "IoU"), ("iobb", "IoBB")):
        for threshold in document["thresholds"]:
            key = f"{threshold:g}"
            cells = [findings[name][criterion][key] for name in names]
            lines.append(
                f"| T({title}) = {key}: Acc. / AFP | "
                + " | ".join(f"{_cell(cell['accuracy'])} / {_cell(cell['afp'])}" for cell in cells)
                + " |"
            )
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _json_values(value: Any) -> Any:
    from ml.evaluation.report import to_json_values

    return to_json_values(value)


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
