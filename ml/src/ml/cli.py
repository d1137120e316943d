"""Command line: ``python -m ml predict IMAGE...`` and ``python -m ml card``.

Bad input (a missing file, an undecodable image, a bad weights directory) ends with exit
status 2 and one line on stderr. Everything is checked before TensorFlow is imported, so
mistakes are reported in a fraction of a second.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ml.errors import ImageDecodeError, WeightsError
from ml.evaluation.cli import add_evaluate_parser
from ml.images.decoding import decode_radiograph
from ml.images.radiograph import Radiograph
from ml.images.screening_report import add_screening_parsers
from ml.inference.quantize_cli import add_quantize_parser
from ml.localization.cli import add_localize_parser
from ml.training.cli import add_train_parser
from ml.training.errors import DataError
from ml.weights.card import ModelCard
from ml.weights.import_cli import add_import_parser
from ml.weights.registry import WEIGHTS_ENV_VAR, describe_active_model, weights_dir_from_env

EXIT_BAD_INPUT = 2
UNTRAINED_WARNING = "UNTRAINED MODEL — not for clinical use: its outputs are random, not findings."


class BadInput(Exception):
    """A problem with what the user asked for, reported as one line and exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    try:
        return arguments.command(arguments)
    except (BadInput, DataError, ImageDecodeError, WeightsError) as error:
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
    return arguments.weights if arguments.weights is not None else weights_dir_from_env()


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
    weights_dir = _weights_dir(arguments)
    # Validating the card and decoding every image first makes bad input fail fast.
    describe_active_model(weights_dir)
    radiographs = [(path, _read_radiograph(path)) for path in arguments.images]

    # Quieten TensorFlow's start-up chatter unless the user asked for it; this must happen
    # before TensorFlow is imported, hence the late import.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from ml.images.rendering import heatmap_png
    from ml.inference.engine import InferenceEngine

    engine = InferenceEngine.load(weights_dir)
    card = engine.card
    if not card.trained:
        print(UNTRAINED_WARNING, file=sys.stderr)

    results: list[dict[str, Any]] = []
    used_stems: set[str] = set()
    for path, radiograph in radiographs:
        analysis = engine.analyze(radiograph)
        findings = sorted(
            (
                {
                    "label": label,
                    "probability": probability,
                    "threshold": card.thresholds[label],
                    "positive": probability >= card.thresholds[label],
                }
                for label, probability in analysis.probabilities.items()
            ),
            key=lambda finding: finding["probability"],
            reverse=True,
        )
        results.append({"path": str(path), "findings": findings})
        if arguments.heatmaps is not None:
            directory = arguments.heatmaps / _unique_stem(path, used_stems)
            directory.mkdir(parents=True, exist_ok=True)
            for label, heatmap in analysis.heatmaps.items():
                (directory / f"{label}.png").write_bytes(heatmap_png(heatmap))
        if not arguments.json:
            print(_findings_table(path, radiograph, findings))

    if arguments.json:
        print(json.dumps({"model": card.to_dict(), "images": results}, indent=2, ensure_ascii=False))
    return 0


def _read_radiograph(path: Path) -> Radiograph:
    try:
        data = path.read_bytes()
    except FileNotFoundError as error:
        raise BadInput(f"{path}: no such file.") from error
    except OSError as error:
        raise BadInput(f"{path}: cannot be read ({error.strerror or error}).") from error
    try:
        return decode_radiograph(data)
    except ImageDecodeError as error:
        raise BadInput(f"{path}: {error}") from error


def _unique_stem(path: Path, used: set[str]) -> str:
    """The image's file stem, numbered when two images share one, so no heatmap is overwritten."""
    stem, number = path.stem, 1
    while stem in used:
        number += 1
        stem = f"{path.stem}-{number}"
    used.add(stem)
    return stem


def _findings_table(path: Path, radiograph: Radiograph, findings: list[dict[str, Any]]) -> str:
    width = max(len("label"), *(len(finding["label"]) for finding in findings))
    lines = [
        f"{path} ({radiograph.width}x{radiograph.height}, {radiograph.bit_depth}-bit)",
        f"  {'label':<{width}}  probability  threshold  positive",
    ]
    for finding in findings:
        lines.append(
            f"  {finding['label']:<{width}}  {finding['probability']:>11.3f}  {finding['threshold']:>9.3f}  "
            f"{'yes' if finding['positive'] else 'no'}"
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
