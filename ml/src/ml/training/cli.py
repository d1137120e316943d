"""What every trainer's command shares: the two-stage schedule's options, the output options, the run.

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
from ml.training.config import RESUMABLE_SETTINGS, check_output

if TYPE_CHECKING:
    from ml.training.datasets import DataOptions, TrainingData

ResultT = TypeVar("ResultT")


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
