"""``python -m ml bench-screener-channels``: the ELU CNN on greyscale against RGB input.

A COVID-19 radiograph study found a small CNN with ELU activations trained about 7 % faster
on greyscale than on RGB input (the grey level in three channels) with no loss of
accuracy. This trains ``elu-cnn`` twice on the same data, split, seed and epochs, once per
input, with every layer training from the first epoch and no early stopping, and prints
the median training seconds per epoch of each (validation excluded; the first epoch, which also
traces the graph and fills the image cache, is left out when there are more), their
ratio, and each run's validation AUROC. Benchmarks are not tests: nothing here asserts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ml.errors import DataError
from ml.screener.config import ScreenerConfig

CHANNELS = (1, 3)


def compare_channels(base: ScreenerConfig, work_dir: Path, repeat: int = 1) -> dict[str, Any]:
    """Train ``base`` (an elu-cnn config) once per channel count in ``work_dir``; the timings and AUROCs.

    ``repeat`` passes over the training images in each epoch (a small data set's epoch is
    too short to time steadily).
    """
    from ml.screener.data import load_screener_data
    from ml.screener.training import train_screener

    data = load_screener_data(base.data_options())
    if repeat > 1:
        train = data.train.subset(np.tile(np.arange(len(data.train)), repeat))
        description = f"{data.description}; training images x{repeat}"
        data = dataclasses.replace(data, train=train, description=description)
    runs: dict[str, Any] = {}
    for channels in CHANNELS:
        config = ScreenerConfig.from_dict(
            dict(base.to_dict(), channels=channels, out=str(work_dir / f"channels-{channels}"))
        )
        result = train_screener(config, data=data, verbose=0)
        # images_per_second leaves each epoch's validation pass out.
        seconds = [len(data.train) / epoch["images_per_second"] for epoch in result.history]
        timed = seconds[1:] if len(seconds) > 1 else seconds
        runs["greyscale" if channels == 1 else "rgb"] = {
            "channels": channels,
            # The median: a CPU shared with other work slows some epochs several-fold.
            "seconds_per_epoch": round(statistics.median(timed), 4),
            "epoch_seconds": [round(value, 4) for value in seconds],
            "validation_auroc": (result.card.validation or {}).get("auroc"),
        }
    grey, rgb = runs["greyscale"]["seconds_per_epoch"], runs["rgb"]["seconds_per_epoch"]
    return {
        "architecture": base.architecture,
        "input_size": base.size,
        "epochs": base.finetune_epochs,
        "batch_size": base.batch_size,
        "repeat": repeat,
        "train_images": len(data.train),
        "validation_images": len(data.validation),
        "data": data.description,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "runs": runs,
        "rgb_to_greyscale_time_ratio": round(rgb / grey, 4),
    }


def run_bench(arguments: argparse.Namespace) -> int:
    """The ``bench-screener-channels`` command: both runs, a table, then one JSON line."""
    if arguments.data is None:
        raise DataError("--data is required.")
    if arguments.epochs < 2:
        raise DataError("--epochs must be at least 2: the first epoch is not timed.")
    if arguments.repeat < 1:
        raise DataError("--repeat must be at least 1.")
    base = ScreenerConfig(
        data=str(arguments.data),
        out="",
        images=None if arguments.images is None else str(arguments.images),
        val_fraction=arguments.val_fraction,
        split_by_image=arguments.split_by_image,
        architecture="elu-cnn",
        input_size=arguments.input_size,
        batch_size=arguments.batch_size,
        head_epochs=0,
        finetune_epochs=arguments.epochs,
        # One stage training every layer from scratch, at the rate a fresh small CNN needs.
        unfreeze="all",
        finetune_learning_rate=1e-3,
        # Both runs train every epoch asked for at one learning rate: early stopping or a cut
        # would make them differ in more than their input.
        early_stopping_patience=arguments.epochs,
        lr_patience=arguments.epochs,
        augment=not arguments.no_augment,
        # Decoded once, then from memory: the epochs time the network, not PNG decoding.
        cache="memory",
        mixed_precision=arguments.mixed_precision,
        seed=arguments.seed,
        version="channel-bench",
        bootstrap=200,
    )
    try:
        base.validate()
    except ValueError as error:
        raise DataError(str(error)) from error
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory(prefix="screener-channels-") as work_dir:
        report = compare_channels(base, Path(work_dir), arguments.repeat)
    print(
        f"elu-cnn at {report['input_size']}x{report['input_size']}, {report['epochs']} epochs, "
        f"{report['train_images']} train / {report['validation_images']} validation images",
        file=sys.stderr,
    )
    print(f"{'input':<10}{'seconds/epoch':>15}{'validation AUROC':>18}")
    for name, run in report["runs"].items():
        auroc = run["validation_auroc"]
        print(f"{name:<10}{run['seconds_per_epoch']:>15.3f}{'-' if auroc is None else f'{auroc:.3f}':>18}")
    ratio = report["rgb_to_greyscale_time_ratio"]
    print(
        f"RGB / greyscale time per epoch: {ratio:.3f} (greyscale {100 * (1 - 1 / ratio):+.1f} % time saved)"
    )
    print(json.dumps(report))
    return 0
