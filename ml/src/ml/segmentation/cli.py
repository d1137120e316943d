"""The segmentation commands: train-segmentation, evaluate-segmentation, import-segmentation-weights, segment.

Settings, folders and files are checked before TensorFlow is imported, so a mistake fails in
a fraction of a second with one line on stderr and exit status 2 (``ml.cli.main`` reports
DataError, WeightsError and ImageError so).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ml.cli_options import UNTRAINED_WARNING
from ml.errors import DataError, ImageError
from ml.segmentation.card import (
    SEGMENTATION_WEIGHTS_ENV_VAR,
    SegmentationCard,
    describe_segmentation_model,
)
from ml.segmentation.config import RESUMABLE_SETTINGS, SegmentationTrainingConfig, resume_config
from ml.segmentation.data import find_examples
from ml.training.config import check_output


def add_segmentation_parsers(commands: argparse._SubParsersAction) -> None:
    """Register the segmentation subcommands."""
    _add_train(commands)
    _add_evaluate(commands)
    _add_import(commands)
    _add_segment(commands)


def _add_weights_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--weights",
        type=Path,
        metavar="DIR",
        help=f"segmentation weights directory (default ${SEGMENTATION_WEIGHTS_ENV_VAR}, else untrained)",
    )


def _add_train(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train-segmentation",
        help="train the anatomy U-Net on radiographs and per-structure masks",
        description=(
            "Train the EfficientNetB0 U-Net (decoder on a frozen encoder, then all at a lower rate) on "
            "DATA/images/ and DATA/masks/<structure>/ (the JSRT/SCR layout) and write OUT/card.json + "
            f"OUT/model.weights.h5 for the service ({SEGMENTATION_WEIGHTS_ENV_VAR}=OUT). Checkpointed every "
            "epoch; --resume continues."
        ),
    )
    parser.add_argument("--data", type=Path, metavar="DIR", help="images/ and masks/<structure>/ folders")
    parser.add_argument(
        "--patients", type=Path, metavar="FILE.csv", help="image,patient columns (default: one each)"
    )
    parser.add_argument(
        "--out", type=Path, required=True, metavar="OUT", help="the weights directory to write"
    )
    parser.add_argument("--resume", action="store_true", help="continue the run checkpointed in OUT")
    parser.add_argument(
        "--val-fraction", type=float, default=0.2, help="share of patients for validation (0.2)"
    )
    parser.add_argument(
        "--input-size", type=int, default=256, help="input pixels a side, a multiple of 32 (256)"
    )
    parser.add_argument("--batch-size", type=int, help="images per step (8)")
    parser.add_argument("--head-epochs", type=int, help="stage 1 epochs, encoder frozen (10)")
    parser.add_argument("--finetune-epochs", type=int, help="stage 2 epochs, all layers (40)")
    parser.add_argument("--lr", type=float, default=1e-3, help="stage 1 learning rate (1e-3)")
    parser.add_argument("--finetune-lr", type=float, default=1e-4, help="stage 2 learning rate (1e-4)")
    parser.add_argument(
        "--encoder-scale", default="1,1", metavar="W,D", help="EfficientNetB0 width,depth multipliers"
    )
    parser.add_argument("--no-augment", action="store_true", help="no rotation/scale/shift/intensity changes")
    parser.add_argument(
        "--mixed-precision", choices=("auto", "on", "off"), default="auto", help="auto: on a GPU"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", help="model name in the card")
    parser.add_argument("--version", help="model version in the card (default: trained-<UTC time>)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="resamples for the validation CIs (1000)")
    parser.add_argument("--quiet", action="store_true", help="one line per epoch instead of a progress bar")
    parser.set_defaults(command=run_train)


def run_train(arguments: argparse.Namespace) -> int:
    resumable = {name: getattr(arguments, name) for name in RESUMABLE_SETTINGS}
    try:
        if arguments.resume:
            config = resume_config(arguments.out, **resumable)
        else:
            if arguments.data is None:
                raise DataError(
                    "--data is required (a folder with images/ and masks/), unless --resume is given."
                )
            config = SegmentationTrainingConfig(
                data=str(arguments.data),
                out=str(arguments.out),
                patients_csv=str(arguments.patients) if arguments.patients else None,
                val_fraction=arguments.val_fraction,
                input_size=arguments.input_size,
                encoder_scale=_scale(arguments.encoder_scale),
                learning_rate=arguments.lr,
                finetune_learning_rate=arguments.finetune_lr,
                augment=not arguments.no_augment,
                mixed_precision=arguments.mixed_precision,
                seed=arguments.seed,
                name=arguments.name,
                version=arguments.version,
                bootstrap=arguments.bootstrap,
                **{name: value for name, value in resumable.items() if value is not None},
            )
        config.validate()
        check_output(config.out, resume=arguments.resume)
        data = find_examples(config.data, config.patients_csv)
        data.split(config.val_fraction, config.seed)
    except ValueError as error:
        raise DataError(str(error)) from error
    print(f"Data: {data.description}.", file=sys.stderr)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from ml.segmentation.training import train_segmentation

    try:
        result = train_segmentation(config, resume=arguments.resume, verbose=2 if arguments.quiet else None)
    except ValueError as error:
        raise DataError(str(error)) from error
    validation = result.card.validation or {}
    print(
        f"{result.directory}: {result.card.name} {result.card.version}, validation mean Dice "
        f"{validation.get('mean_dice'):.4f}; serve it with {SEGMENTATION_WEIGHTS_ENV_VAR}={result.directory}"
    )
    return 0


def _add_evaluate(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "evaluate-segmentation",
        help="Dice and IoU per structure on a data folder, with bootstrap CIs",
        description="Segment every radiograph of DATA as the service does; score each structure.",
    )
    parser.add_argument(
        "--data", type=Path, required=True, metavar="DIR", help="images/ and masks/<structure>/"
    )
    _add_weights_argument(parser)
    parser.add_argument("--bootstrap", type=int, default=1000, help="resamples for the 95%% CIs (1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--out", type=Path, metavar="FILE.json", help="also write the JSON report here")
    parser.set_defaults(command=run_evaluate)


def run_evaluate(arguments: argparse.Namespace) -> int:
    if arguments.bootstrap < 1:
        raise DataError("--bootstrap must be at least 1.")
    weights = arguments.weights if arguments.weights is not None else SegmentationCard.weights_dir_from_env()
    card = describe_segmentation_model(weights)
    data = find_examples(arguments.data)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from ml.segmentation.evaluation import evaluate_segmentation, format_table

    try:
        result = evaluate_segmentation(weights, data, resamples=arguments.bootstrap, seed=arguments.seed)
    except ValueError as error:
        raise DataError(str(error)) from error
    _warn_if_untrained(card.trained)
    text = json.dumps(result, indent=2)
    if arguments.out is not None:
        arguments.out.write_text(text + "\n", encoding="utf-8")
    if arguments.json:
        print(text)
    else:
        print(f"{card.name} {card.version} on {len(data)} radiographs of {arguments.data}")
        print(format_table(result))
    return 0


def _add_import(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "import-segmentation-weights",
        help="convert torchxrayvision's ChestX-Det PSPNet checkpoint into a segmentation weights directory",
        description=(
            "Convert pspnet_chestxray_best_model_4.pth (ChestX-Det's PSPNet, published by torchxrayvision) "
            "into card.json + model.weights.h5. PyTorch is not needed, and nothing in the file is run."
        ),
    )
    parser.add_argument("checkpoint", type=Path, metavar="CHECKPOINT", help="the .pth file")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="a new weights directory")
    parser.add_argument("--name", help="the card's model name (chestx-det-pspnet)")
    parser.add_argument("--version", help="the card's version (default: imported-<file hash>)")
    parser.set_defaults(command=run_import)


def run_import(arguments: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from ml.segmentation.importer import import_chestx_det

    card = import_chestx_det(
        arguments.checkpoint, arguments.out, name=arguments.name, version=arguments.version
    )
    print(f"Imported {arguments.checkpoint} into {arguments.out}: {card.name} {card.version}")
    print(
        f"  {len(card.structures)} structures: {', '.join(card.structures)}; "
        f"weights sha256 {card.weights_sha256}"
    )
    print(f"Use it with {SEGMENTATION_WEIGHTS_ENV_VAR}={arguments.out.resolve()}", file=sys.stderr)
    return 0


def _add_segment(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "segment",
        help="anatomy masks and the cardiothoracic ratio of radiographs",
        description="Segment radiographs as the service does; measure the cardiothoracic ratio.",
    )
    parser.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="PNG, JPEG or DICOM radiograph")
    _add_weights_argument(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(command=run_segment)


def run_segment(arguments: argparse.Namespace) -> int:
    from ml.pipeline import Pipeline

    weights = arguments.weights if arguments.weights is not None else SegmentationCard.weights_dir_from_env()
    card = describe_segmentation_model(weights)
    intake = Pipeline(None)
    radiographs = []
    for path in arguments.images:
        try:
            radiographs.append(intake.radiograph_intake(path.read_bytes()).radiograph)
        except OSError as error:
            raise DataError(f"{path}: cannot be read ({error.strerror or error}).") from error
        except ImageError as error:
            raise DataError(f"{path}: {error}") from error
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from ml.segmentation.analyser import SegmentationAnalyser
    from ml.segmentation.cardiothoracic import measure_cardiothoracic_ratio, unmeasurable_reason

    analyser = SegmentationAnalyser.load(weights)
    segmentations = analyser.segment(
        [analyser.prepare(analyser.card, radiograph) for radiograph in radiographs],
        sizes=[(radiograph.width, radiograph.height) for radiograph in radiographs],
    )
    _warn_if_untrained(card.trained)
    images: list[dict[str, Any]] = []
    for path, radiograph, segmentation in zip(arguments.images, radiographs, segmentations, strict=True):
        ratio = measure_cardiothoracic_ratio(segmentation, radiograph.metadata.view_position)
        areas = {name: float(segmentation.network_mask(name).mean()) for name in segmentation.structures}
        entry = {
            "path": str(path),
            "area_fraction": areas,
            "cardiothoracic_ratio": ratio.to_dict() if ratio is not None else None,
            "not_measured_because": unmeasurable_reason(segmentation) if ratio is None else None,
        }
        images.append(entry)
        if not arguments.json:
            print(f"{path} ({radiograph.width}x{radiograph.height})")
            for name, share in areas.items():
                print(f"  {name:<22} {share:6.1%} of the image")
            if ratio is None:
                print(f"  cardiothoracic ratio: not measured ({entry['not_measured_because']})")
            else:
                print(
                    f"  cardiothoracic ratio: {ratio.ratio:.3f} (limit {ratio.normal_upper_limit:.2f}"
                    f"{', above' if ratio.above_range else ''}){'; ' + ratio.caveat if ratio.caveat else ''}"
                )
    if arguments.json:
        print(json.dumps({"model": analyser.card.to_dict(), "images": images}, indent=2))
    return 0


def _warn_if_untrained(trained: bool) -> None:
    if not trained:
        print(UNTRAINED_WARNING, file=sys.stderr)


def _scale(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 2:
        raise DataError(f"--encoder-scale must be two numbers WIDTH,DEPTH, not {text!r}.")
    return values
