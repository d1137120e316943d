"""``python -m ml train``: train DenseNet121 and write a weights directory for the service.

The data and settings are checked before TensorFlow is imported (``ml.training.cli.run_training``),
so a wrong path or column fails in a fraction of a second with one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ml.classifier.training.config import UNFREEZE_CHOICES, TrainingConfig
from ml.errors import DataError
from ml.training.cli import add_run_arguments, add_schedule_arguments, run_training, schedule_settings
from ml.training.config import RESUMABLE_SETTINGS, resume_config

if TYPE_CHECKING:
    from ml.classifier.training.trainer import TrainingResult
    from ml.training.datasets import DataOptions, TrainingData


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


def run_train(arguments: argparse.Namespace) -> int:
    result = run_training(arguments, _config, _load_training_data, _trainer)
    validation = result.card.validation or {}
    print(
        f"{result.directory}: {result.card.name} {result.card.version}, validation mean AUROC "
        f"{validation.get('mean_auroc')}; serve it with CXR_WEIGHTS={result.directory}"
    )
    return 0


def _load_training_data(options: DataOptions) -> TrainingData:
    from ml.training.datasets import load_training_data

    return load_training_data(options)


def _trainer() -> Callable[..., TrainingResult]:
    from ml.classifier.training.trainer import train

    return train


def _config(arguments: argparse.Namespace) -> TrainingConfig:
    resumable = {name: getattr(arguments, name) for name in RESUMABLE_SETTINGS}
    if arguments.resume:
        return resume_config(arguments.out, TrainingConfig.from_dict, **resumable)
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
