"""Command line: ``python -m ml predict IMAGE...``, ``python -m ml explain IMAGE`` and ``python -m ml card``.

Bad input (a missing file, an undecodable image, a bad weights directory) ends with exit
status 2 and one line on stderr, and so does a file the service would refuse (not a frontal
chest radiograph, rotated): ``predict`` goes through the service's own pipeline, screening and
grey-scale correction included, so both give the same answer for the same file. Everything is
checked before the network is built, so mistakes are reported in a fraction of a second.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ml.classifier.analyser import CLASSIFIER
from ml.classifier.card import ModelCard
from ml.classifier.explanations.explanation import METHODS, Explanation
from ml.classifier.import_cli import add_import_parser
from ml.classifier.quantize_cli import add_quantize_parser
from ml.classifier.registry import WEIGHTS_ENV_VAR, describe_active_model
from ml.classifier.train_cli import add_train_parser
from ml.cli_options import UNTRAINED_WARNING
from ml.ct.cli import add_ct_parsers
from ml.errors import DataError, ImageError, WeightsError
from ml.evaluation.cli import add_evaluate_parser
from ml.images.rendering import heatmap_png
from ml.images.screening_report import add_screening_parsers
from ml.localization.cli import add_localize_parser
from ml.pipeline import Intake, Pipeline
from ml.screener.cli import add_screener_parsers
from ml.segmentation.cli import add_segmentation_parsers

EXIT_BAD_INPUT = 2


class BadInput(Exception):
    """A problem with what the user asked for, reported as one line and exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    try:
        return arguments.command(arguments)
    except (BadInput, DataError, ImageError, WeightsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ml",
        description="Chest X-ray findings (decision support, not a diagnosis).",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    predict = commands.add_parser("predict", help="probabilities (and heatmaps) for radiographs")
    predict.add_argument(
        "images", nargs="+", type=Path, metavar="IMAGE", help="PNG, JPEG or DICOM radiograph"
    )
    _add_weights_argument(predict)
    predict.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    predict.add_argument(
        "--heatmaps", type=Path, metavar="OUTDIR", help="write OUTDIR/<image stem>/<label>.png overlays"
    )
    predict.set_defaults(command=_predict)

    explain = commands.add_parser(
        "explain", help="one finding of a radiograph explained by each method, with faithfulness scores"
    )
    explain.add_argument("image", type=Path, metavar="IMAGE", help="PNG, JPEG or DICOM radiograph")
    explain.add_argument("--label", required=True, help="the finding to explain, as the card names it")
    explain.add_argument(
        "--methods",
        default=",".join(METHODS),
        help=f"comma-separated methods (default all: {','.join(METHODS)})",
    )
    _add_weights_argument(explain)
    explain.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    explain.add_argument("--out", type=Path, metavar="OUTDIR", help="write OUTDIR/<method>.png overlays")
    explain.set_defaults(command=_explain)

    card = commands.add_parser("card", help="show the active model card")
    _add_weights_argument(card)
    card.add_argument("--json", action="store_true", help="print the card as JSON")
    card.set_defaults(command=_card)

    add_import_parser(commands)
    add_screening_parsers(commands)
    add_train_parser(commands)
    add_evaluate_parser(commands)
    add_localize_parser(commands)
    add_quantize_parser(commands)
    add_ct_parsers(commands)
    add_segmentation_parsers(commands)
    add_screener_parsers(commands)
    return parser


def _add_weights_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--weights",
        type=Path,
        metavar="DIR",
        default=None,
        help=f"weights directory (card.json + model.weights.h5); default ${WEIGHTS_ENV_VAR}, else untrained",
    )


def _weights_dir(arguments: argparse.Namespace) -> Path | None:
    return arguments.weights if arguments.weights is not None else ModelCard.weights_dir_from_env()


def _card(arguments: argparse.Namespace) -> int:
    card = describe_active_model(_weights_dir(arguments))
    if not card.trained:
        print(UNTRAINED_WARNING, file=sys.stderr)
    if arguments.json:
        print(json.dumps(card.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(_card_text(card))
    return 0


def _predict(arguments: argparse.Namespace) -> int:
    pipeline = Pipeline(_weights_dir(arguments))
    # Validating the card and taking every image in first makes bad input fail fast, before
    # the network is built.
    pipeline.card()  # reading the card validates it
    intakes = [(path, _intake(pipeline, path)) for path in arguments.images]

    # Quieten TensorFlow's start-up chatter (on a GPU) unless the user asked for it.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    results = pipeline.run(CLASSIFIER, [intake.prepared for _, intake in intakes])
    card = results[0].card
    if not card.trained:
        print(UNTRAINED_WARNING, file=sys.stderr)

    images: list[dict[str, Any]] = []
    used_stems: set[str] = set()
    for (path, intake), result in zip(intakes, results, strict=True):
        findings = sorted(
            (finding.to_dict() for finding in result.findings),
            key=lambda finding: finding["probability"],
            reverse=True,
        )
        images.append({"path": str(path), "screening": intake.screening.to_dict(), "findings": findings})
        if arguments.heatmaps is not None:
            directory = arguments.heatmaps / _unique_stem(path, used_stems)
            directory.mkdir(parents=True, exist_ok=True)
            for label in result.heatmaps.labels:
                (directory / f"{label}.png").write_bytes(
                    heatmap_png(result.heatmaps.at_radiograph_size(label))
                )
        if not arguments.json:
            print(_findings_table(path, intake, findings))

    if arguments.json:
        print(json.dumps({"model": card.to_dict(), "images": images}, indent=2, ensure_ascii=False))
    return 0


def _explain(arguments: argparse.Namespace) -> int:
    pipeline = Pipeline(_weights_dir(arguments))
    labels = pipeline.card().labels
    if arguments.label not in labels:
        raise BadInput(f"The model has no finding {arguments.label!r}; its findings: {', '.join(labels)}.")
    methods = [method.strip() for method in arguments.methods.split(",") if method.strip()]
    unknown = [method for method in methods if method not in METHODS]
    if unknown or not methods:
        raise BadInput(
            f"Unknown method(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(METHODS)}."
        )
    intake = _intake(pipeline, arguments.image)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    explanations = [pipeline.explain(intake.prepared, arguments.label, method) for method in methods]
    card = pipeline.engine.card
    if not card.trained:
        print(UNTRAINED_WARNING, file=sys.stderr)
    # Every map is computed before the first file is written: a failure leaves no partial folder.
    if arguments.out is not None:
        arguments.out.mkdir(parents=True, exist_ok=True)
        for explanation in explanations:
            (arguments.out / f"{explanation.method}.png").write_bytes(
                heatmap_png(explanation.at_radiograph_size())
            )
    if arguments.json:
        rows = [_explanation_json(explanation) for explanation in explanations]
        document = {"model": card.to_dict(), "image": str(arguments.image), "label": arguments.label}
        print(json.dumps({**document, "explanations": rows}, indent=2, ensure_ascii=False))
    else:
        print(_explanations_table(arguments.image, arguments.label, explanations))
    return 0


def _explanation_json(explanation: Explanation) -> dict[str, Any]:
    return {
        "method": explanation.method,
        "deletion_auc": explanation.deletion_auc,
        "insertion_auc": explanation.insertion_auc,
        "seconds": explanation.seconds,
        "parameters": explanation.parameters,
    }


def _explanations_table(path: Path, label: str, explanations: list[Explanation]) -> str:
    lines = [
        f"{path}: {label} (deletion AUC: lower is better; insertion AUC: higher is better)",
        f"  {'method':<22}  deletion AUC  insertion AUC  seconds",
    ]
    lines.extend(
        f"  {explanation.method:<22}  {explanation.deletion_auc:>12.3f}  {explanation.insertion_auc:>13.3f}  "
        f"{explanation.seconds:>7.1f}"
        for explanation in explanations
    )
    return "\n".join(lines) + "\n"


def _intake(pipeline: Pipeline, path: Path) -> Intake:
    """The pipeline's intake of one file: the service's decoding, screening and corrections."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as error:
        raise BadInput(f"{path}: no such file.") from error
    except OSError as error:
        raise BadInput(f"{path}: cannot be read ({error.strerror or error}).") from error
    try:
        return pipeline.radiograph_intake(data)
    except ImageError as error:
        raise BadInput(f"{path}: {error}") from error


def _unique_stem(path: Path, used: set[str]) -> str:
    """The image's file stem, numbered when two images share one, so no heatmap is overwritten."""
    stem, number = path.stem, 1
    while stem in used:
        number += 1
        stem = f"{path.stem}-{number}"
    used.add(stem)
    return stem


def _findings_table(path: Path, intake: Intake, findings: list[dict[str, Any]]) -> str:
    radiograph = intake.radiograph
    width = max(len("label"), *(len(finding["label"]) for finding in findings))
    lines = [f"{path} ({radiograph.width}x{radiograph.height}, {radiograph.bit_depth}-bit)"]
    if intake.screening.corrected:
        lines.append(f"  corrected by the input screening: {intake.screening.corrected}")
    lines.append(f"  {'label':<{width}}  probability  threshold  positive  calibrated score")
    for finding in findings:
        lines.append(
            f"  {finding['label']:<{width}}  {finding['probability']:>11.3f}  {finding['threshold']:>9.3f}  "
            f"{'yes' if finding['positive'] else 'no':<8}  {finding['calibrated_score']:>16.3f}"
        )
    return "\n".join(lines) + "\n"


def _card_text(card: ModelCard) -> str:
    lines = [
        f"name:            {card.name}",
        f"version:         {card.version}",
        f"trained:         {'yes' if card.trained else 'no'}",
        f"weights sha256:  {card.weights_sha256 or 'unknown until the model is built'}",
        f"input:           {card.input_size}x{card.input_size}, {card.input_channels} channel(s)",
        f"preprocessing:   {json.dumps(card.preprocessing)}",
        f"training data:   {card.training_data or '-'}",
        f"validation:      {json.dumps(card.validation) if card.validation is not None else '-'}",
        "thresholds:",
    ]
    width = max(len(label) for label in card.labels)
    lines.extend(f"  {label:<{width}}  {card.thresholds[label]:.3f}" for label in card.labels)
    return "\n".join(lines)
