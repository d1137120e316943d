"""``python -m ml train``: train DenseNet121 and write a weights directory for the service.

The data and settings are checked before TensorFlow is imported, so a wrong path or
column fails in a fraction of a second with one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ml.errors import DataError
from ml.training.config import (
    RESUMABLE_SETTINGS,
    UNFREEZE_CHOICES,
    TrainingConfig,
    check_output,
    resume_config,
)

if TYPE_CHECKING:
    from ml.training.datasets import DataOptions, TrainingData
    from ml.training.trainer import TrainingResult

ResultT = TypeVar("ResultT")


def add_train_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``train`` subcommand."""
    parser = subparsers.add_parser(
        "train",
        help="train DenseNet121 on ChestX-ray14 or a label CSV",
        description=(
            "Train DenseNet121 (head on a frozen backbone, then the last dense blocks) and write "
            "OUT/card.json + OUT/model.weights.h5, which the service loads as they are (CXR_WEIGHTS=OUT), "
            "with thresholds chosen on the validation set, OUT/validation/report.md and OUT/training.json. "
            "The run is checkpointed after every epoch; --resume continues it."
        ),
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data",
        type=Path,
        metavar="DIR|FILE.csv",
        help="a ChestX-ray14 folder (Data_Entry_2017.csv, train_val_list.txt, test_list.txt, images) or a "
        "CSV: image path, then one 0/1 column per finding (and a patient_id column)",
    )
    data.add_argument("--images", type=Path, metavar="DIR", help="image folder (default: beside the labels)")
    data.add_argument(
        "--label-set", choices=("14", "8"), help="14 findings, or 8 with the rare ones as 'Other'"
    )
    data.add_argument("--labels", metavar="A,B,...", help="train these columns of a label CSV only")
    data.add_argument(
        "--val-fraction", type=float, default=0.1, help="share of patients for validation (0.1)"
    )
    data.add_argument(
        "--val-csv", type=Path, metavar="FILE.csv", help="validation images from this CSV instead"
    )
    data.add_argument(
        "--patient-column", metavar="NAME", help="a label CSV's patient column (default: found)"
    )
    data.add_argument(
        "--split-by-image", action="store_true", help="allow a CSV without patients to be split by image"
    )
    model = parser.add_argument_group("model and training")
    model.add_argument("--input-size", type=int, default=224, help="input pixels a side (224)")
    model.add_argument(
        "--channels", type=int, choices=(1, 3), default=1, help="1 grey channel, or 3 equal ones"
    )
    model.add_argument(
        "--imagenet-weights",
        default="auto",
        metavar="auto|none|FILE",
        help="ImageNet initialisation: auto uses Keras's DenseNet121 no-top file if it is already on disk",
    )
    add_schedule_arguments(model, head_epochs="2 with ImageNet weights, else 0", finetune_epochs="30")
    model.add_argument(
        "--unfreeze",
        choices=UNFREEZE_CHOICES,
        default="auto",
        help="stage 2 trains the last N dense blocks or all layers (auto: 1 with ImageNet weights, else all)",
    )
    output = parser.add_argument_group("output")
    add_run_arguments(output)
    output.add_argument(
        "--threshold",
        default="f1",
        metavar="METHOD",
        help="card thresholds chosen on validation: f1, youden, mcc, sensitivity:X, specificity:X, a number",
    )
    parser.set_defaults(command=run_train)


def add_schedule_arguments(group: argparse._ArgumentGroup, *, head_epochs: str, finetune_epochs: str) -> None:
    """The two-stage schedule's options, which every trainer shares; ``*_epochs`` are the help's defaults."""
    group.add_argument("--batch-size", type=int, help="images per step (32)")
    group.add_argument("--head-epochs", type=int, help=f"stage 1 epochs ({head_epochs})")
    group.add_argument("--finetune-epochs", type=int, help=f"stage 2 epochs ({finetune_epochs})")
    group.add_argument("--lr", type=float, default=1e-3, help="stage 1 learning rate (1e-3)")
    group.add_argument("--finetune-lr", type=float, default=1e-4, help="stage 2 learning rate (1e-4)")
    group.add_argument("--optimizer", choices=("adam", "rmsprop"), default="adam")
    group.add_argument("--lr-factor", type=float, default=0.1, help="learning-rate cut on a plateau (0.1)")
    group.add_argument("--lr-patience", type=int, default=1, help="epochs without improvement before it (1)")
    group.add_argument(
        "--patience", type=int, default=3, help="epochs without improvement before stopping (3)"
    )
    group.add_argument("--no-augment", action="store_true", help="no rotation/shift/zoom/brightness/contrast")
    group.add_argument("--cache", metavar="memory|DIR", help="keep decoded images after the first epoch")
    group.add_argument(
        "--mixed-precision", choices=("auto", "on", "off"), default="auto", help="auto: on a GPU"
    )
    group.add_argument("--seed", type=int, default=0)


def add_run_arguments(group: argparse._ArgumentGroup) -> None:
    """Where a run writes, whether it resumes, and what its card and progress say."""
    group.add_argument(
        "--out", type=Path, required=True, metavar="OUT", help="the weights directory to write"
    )
    group.add_argument("--resume", action="store_true", help="continue the run checkpointed in OUT")
    group.add_argument("--name", help="model name in the card")
    group.add_argument("--version", help="model version in the card (default: trained-<UTC time>)")
    group.add_argument("--bootstrap", type=int, default=1000, help="resamples for the validation CIs (1000)")
    group.add_argument("--quiet", action="store_true", help="one line per epoch instead of a progress bar")


def schedule_settings(arguments: argparse.Namespace) -> dict[str, Any]:
    """The config fields of ``add_schedule_arguments``' and ``add_run_arguments``' options.

    The resumable ones (``RESUMABLE_SETTINGS``) are left out where not given, so that the
    config's own defaults apply.
    """
    resumable = {name: getattr(arguments, name) for name in RESUMABLE_SETTINGS}
    return {
        "out": str(arguments.out),
        "learning_rate": arguments.lr,
        "finetune_learning_rate": arguments.finetune_lr,
        "optimizer": arguments.optimizer,
        "lr_factor": arguments.lr_factor,
        "lr_patience": arguments.lr_patience,
        "early_stopping_patience": arguments.patience,
        "augment": not arguments.no_augment,
        "mixed_precision": arguments.mixed_precision,
        "seed": arguments.seed,
        "name": arguments.name,
        "version": arguments.version,
        "bootstrap": arguments.bootstrap,
        **{name: value for name, value in resumable.items() if value is not None},
    }


def run_train(arguments: argparse.Namespace) -> int:
    result = run_training(arguments, _config, _load_training_data, _trainer)
    validation = result.card.validation or {}
    print(
        f"{result.directory}: {result.card.name} {result.card.version}, validation mean AUROC "
        f"{validation.get('mean_auroc')}; serve it with CXR_WEIGHTS={result.directory}"
    )
    return 0


def run_training(
    arguments: argparse.Namespace,
    make_config: Callable[[argparse.Namespace], RunSettings],
    load_data: Callable[[DataOptions], TrainingData],
    trainer: Callable[[], Callable[..., ResultT]],
) -> ResultT:
    """A training command's run: settings, output folder and data checked before TensorFlow loads.

    ``load_data`` reads and splits the data (without TensorFlow); ``trainer`` imports and
    returns the function that trains (``train(config, resume=, data=, verbose=)``). Bad
    settings raise plain ValueError, turned into DataError: ``ml.cli.main`` reports those as
    one line and exit status 2.
    """
    try:
        config = make_config(arguments)
        config.validate()
        check_output(config.out, resume=arguments.resume)
        # Reading the tables and finding the images first makes bad data fail before TensorFlow loads.
        data = load_data(config.data_options())
    except ValueError as error:
        raise DataError(str(error)) from error
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    train = trainer()
    print(f"Data: {data.description}.", file=sys.stderr)
    try:
        return train(config, resume=arguments.resume, data=data, verbose=2 if arguments.quiet else None)
    except ValueError as error:
        raise DataError(str(error)) from error


class RunSettings(Protocol):
    """What ``run_training`` needs of a run's settings."""

    out: str

    def validate(self) -> None: ...

    def data_options(self) -> DataOptions: ...


def _load_training_data(options: DataOptions) -> TrainingData:
    from ml.training.datasets import load_training_data

    return load_training_data(options)


def _trainer() -> Callable[..., TrainingResult]:
    from ml.training.trainer import train

    return train


def _config(arguments: argparse.Namespace) -> TrainingConfig:
    resumable = {name: getattr(arguments, name) for name in RESUMABLE_SETTINGS}
    if arguments.resume:
        return resume_config(arguments.out, **resumable)
    if arguments.data is None:
        raise DataError(
            "--data is required (a ChestX-ray14 folder or a label CSV), unless --resume is given."
        )
    return TrainingConfig(
        data=str(arguments.data),
        images=_string(arguments.images),
        label_set=arguments.label_set,
        labels=[name.strip() for name in arguments.labels.split(",") if name.strip()]
        if arguments.labels
        else None,
        val_fraction=arguments.val_fraction,
        val_csv=_string(arguments.val_csv),
        patient_column=arguments.patient_column,
        split_by_image=arguments.split_by_image,
        input_size=arguments.input_size,
        channels=arguments.channels,
        unfreeze=arguments.unfreeze,
        imagenet_weights=arguments.imagenet_weights,
        threshold=arguments.threshold,
        **schedule_settings(arguments),
    )


def _string(path: Path | None) -> str | None:
    return None if path is None else str(path)
