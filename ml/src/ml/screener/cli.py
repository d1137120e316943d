"""``python -m ml train-screener``, ``evaluate-screener`` and ``bench-screener-channels``.

Data, settings and cards are checked before TensorFlow is imported, so a wrong path, a
bad file name or a bad card fails in a fraction of a second with one line on stderr and
exit status 2 (``ml.cli.main`` reports the DataError, WeightsError or ImageError).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ml.cli_options import UNTRAINED_WARNING, add_screening_switch
from ml.errors import DataError
from ml.screener.card import ARCHITECTURES, DEFAULT_ARCHITECTURE, SCREENER_WEIGHTS_ENV_VAR, ScreenerCard
from ml.screener.config import UNFREEZE_CHOICES, ScreenerConfig
from ml.training.cli import add_run_arguments, add_schedule_arguments, run_training, schedule_settings
from ml.training.config import RESUMABLE_SETTINGS, resume_config

if TYPE_CHECKING:
    from ml.screener.training import ScreenerTrainingResult


def add_screener_parsers(commands: argparse._SubParsersAction) -> None:
    """Register ``train-screener``, ``evaluate-screener`` and ``bench-screener-channels``."""
    _add_train_parser(commands)
    _add_evaluate_parser(commands)
    _add_bench_parser(commands)


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """Where a screener run's images and labels are (``train-screener``, the channel bench)."""
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data",
        type=Path,
        metavar="DIR|FILE.csv",
        help="a folder of images named *_0.png (normal) / *_1.png (abnormal) (Shenzhen, Montgomery), "
        "a ChestX-ray14 folder (Data_Entry_2017.csv, train_val_list.txt, images), or a label CSV "
        "(Data_Entry_2017.csv layout or 0/1 finding columns): any finding = abnormal",
    )
    data.add_argument("--images", type=Path, metavar="DIR", help="image folder of a CSV (default: beside it)")
    data.add_argument(
        "--val-fraction", type=float, default=0.1, help="share of patients for validation (0.1)"
    )
    data.add_argument(
        "--split-by-image", action="store_true", help="allow a CSV without patients to be split by image"
    )


def _add_train_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train-screener",
        help="train the normal/abnormal screener",
        description=(
            "Train the screener (the head on a frozen backbone, then the top blocks at a lower learning "
            "rate) and write OUT/card.json (kind screener) + OUT/model.weights.h5, with the threshold "
            "reaching the target sensitivity on validation, and OUT/training.json. Serve it with "
            f"{SCREENER_WEIGHTS_ENV_VAR}=OUT. The run is checkpointed after every epoch; --resume "
            "continues it."
        ),
    )
    _add_data_arguments(parser)
    model = parser.add_argument_group("model and training")
    model.add_argument("--architecture", choices=tuple(ARCHITECTURES), default=DEFAULT_ARCHITECTURE)
    model.add_argument(
        "--input-size", type=int, help="input pixels a side (inceptionv3: 299, at least 75; elu-cnn: 224)"
    )
    model.add_argument(
        "--channels", type=int, choices=(1, 3), default=1, help="1 grey channel, or 3 equal ones (RGB)"
    )
    add_schedule_arguments(model, head_epochs="2", finetune_epochs="20")
    model.add_argument(
        "--unfreeze",
        choices=UNFREEZE_CHOICES,
        default="top",
        help="stage 2 trains the top block(s) or all layers (top)",
    )
    output = parser.add_argument_group("output")
    add_run_arguments(output)
    output.add_argument(
        "--sensitivity", type=float, default=0.95, help="target sensitivity the threshold is set for (0.95)"
    )
    parser.set_defaults(command=_train)


def _add_evaluate_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "evaluate-screener",
        help="AUROC, sensitivity and specificity of the screener on labelled images",
        description=(
            "Score labelled images with the screener and report the AUROC, sensitivity and specificity at "
            "the card's threshold (all with bootstrap CIs), and the threshold reaching --sensitivity."
        ),
    )
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        metavar="DIR|FILE.csv",
        help="a folder of *_0 (normal) / *_1 (abnormal) images, a ChestX-ray14 folder (its test_list.txt "
        "images) or a label CSV: any finding = abnormal",
    )
    parser.add_argument(
        "--images", type=Path, metavar="DIR", help="image folder of a CSV (default: beside it)"
    )
    parser.add_argument(
        "--weights",
        type=Path,
        metavar="DIR",
        help=f"screener weights directory (default ${SCREENER_WEIGHTS_ENV_VAR}, else the untrained screener)",
    )
    parser.add_argument("--sensitivity", type=float, default=0.95, help="sensitivity to find a threshold for")
    parser.add_argument(
        "--bootstrap", type=int, default=1000, help="bootstrap resamples of the AUROC CI (1000)"
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (0)")
    parser.add_argument("--batch-size", type=int, default=16, help="images per forward pass (16)")
    parser.add_argument("--threads", type=int, help="TensorFlow intra-op threads")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    add_screening_switch(parser)
    parser.set_defaults(command=_evaluate)


def _add_bench_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "bench-screener-channels",
        help="time the ELU CNN screener on greyscale against RGB input",
        description=(
            "Train elu-cnn twice on the same data, split, seed and epochs, on greyscale and on RGB input, "
            "and print the training seconds per epoch of each, their ratio and each validation AUROC."
        ),
    )
    _add_data_arguments(parser)
    parser.add_argument("--input-size", type=int, default=128, help="input pixels a side (128)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per run, at least 2 (4)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="passes over the training images per epoch (1; more: steadier)"
    )
    parser.add_argument("--batch-size", type=int, default=16, help="images per step (16)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-augment", action="store_true", help="no augmentation in either run")
    parser.add_argument(
        "--mixed-precision", choices=("auto", "on", "off"), default="auto", help="auto: on a GPU"
    )
    parser.set_defaults(command=_bench)


def _bench(arguments: argparse.Namespace) -> int:
    from ml.screener.bench import run_bench

    return run_bench(arguments)


def _train(arguments: argparse.Namespace) -> int:
    from ml.screener.data import load_screener_data

    result = run_training(arguments, _config, load_screener_data, _trainer)
    validation = result.card.validation or {}
    print(
        f"{result.directory}: {result.card.name} {result.card.version}, validation AUROC "
        f"{validation.get('auroc')}, threshold {result.card.threshold:.4f} (sensitivity "
        f"{validation.get('sensitivity')}); serve it with {SCREENER_WEIGHTS_ENV_VAR}={result.directory}"
    )
    return 0


def _trainer() -> Callable[..., ScreenerTrainingResult]:
    from ml.screener.training import train_screener

    return train_screener


def _config(arguments: argparse.Namespace) -> ScreenerConfig:
    if arguments.resume:
        resumable = {name: getattr(arguments, name) for name in RESUMABLE_SETTINGS}
        return resume_config(arguments.out, ScreenerConfig.from_dict, **resumable)
    if arguments.data is None:
        raise DataError(
            "--data is required (a labelled folder, a ChestX-ray14 folder or a CSV) unless --resume is given."
        )
    return ScreenerConfig(
        data=str(arguments.data),
        images=None if arguments.images is None else str(arguments.images),
        val_fraction=arguments.val_fraction,
        split_by_image=arguments.split_by_image,
        architecture=arguments.architecture,
        input_size=arguments.input_size,
        channels=arguments.channels,
        unfreeze=arguments.unfreeze,
        target_sensitivity=arguments.sensitivity,
        **schedule_settings(arguments),
    )


def _evaluate(arguments: argparse.Namespace) -> int:
    # Imported here, not at the top: ``python -m ml`` registers this command on every start.
    from ml.screener.analyser import describe_screener_model
    from ml.screener.data import read_labelled_images
    from ml.screener.evaluation import figures_table, screener_figures
    from ml.screener.scoring import score_labelled_images

    if not 0.0 < arguments.sensitivity <= 1.0:
        raise DataError(f"--sensitivity must lie in (0, 1], not {arguments.sensitivity}.")
    if arguments.bootstrap < 1 or arguments.batch_size < 1 or (arguments.threads or 1) < 1:
        raise DataError("--bootstrap, --batch-size and --threads must be at least 1.")
    weights_dir = arguments.weights or ScreenerCard.weights_dir_from_env()
    card = describe_screener_model(weights_dir)
    images = read_labelled_images(arguments.data, arguments.images)
    if len(np.unique(images.labels)) < 2:
        raise DataError(f"{arguments.data} needs both normal and abnormal images to be evaluated.")
    if not card.trained:
        print(UNTRAINED_WARNING, file=sys.stderr)
    scored = score_labelled_images(
        weights_dir,
        images.paths,
        screen=not arguments.no_screening,
        batch_size=arguments.batch_size,
        threads=arguments.threads,
    )
    if scored.refused:
        print(
            f"warning: {len(scored.refused)} image(s) refused by the input screening, not scored.",
            file=sys.stderr,
        )
    truth = images.labels[scored.accepted, 0]
    try:
        figures = screener_figures(
            truth,
            scored.probabilities,
            target_sensitivity=arguments.sensitivity,
            card_threshold=card.threshold,
            resamples=arguments.bootstrap,
            seed=arguments.seed,
        )
    except ValueError as error:
        raise DataError(f"{arguments.data}: {error} (among the {truth.size} images scored)") from error
    document = {
        "model": card.to_dict(),
        "data": str(arguments.data),
        "input_screening": "off" if arguments.no_screening else "on",
        "refused_by_screening": scored.refused,
        "figures": figures,
    }
    if arguments.json:
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        screening = "" if not arguments.no_screening else " (input screening off)"
        print(f"model: {card.name} {card.version}{'' if card.trained else ' (UNTRAINED)'}{screening}")
        print(figures_table(figures))
    return 0
