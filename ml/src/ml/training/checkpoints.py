"""A run's checkpoint under ``OUT/checkpoint/``: what is saved after every epoch and how a run resumes.

A run on ChestX-ray14 is long, so an interrupted one continues where it stopped rather
than starting over. After every epoch ``Checkpointer`` saves the last weights, the
optimizer's state (step count, learning rate, moments), the best weights so far and the
run state file (``STATE_FILE``: settings, data fingerprint, epochs done per stage, the
learning-rate and early-stopping callbacks' counters, the history). The last weights, the
optimizer state and the state file are written to a temporary name and renamed, so an
interruption mid-write leaves the previous epoch's checkpoint whole. The state file's
format and its reading live in ``ml.training.config``, which needs no TensorFlow.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol

import keras
import numpy as np

from ml.errors import DataError
from ml.training.config import STATE_FILE, STATE_FORMAT, atomic_write_text
from ml.training.datasets import TrainingData
from ml.training.monitoring import MONITOR
from ml.weights.directory import load_weights_file

LAST_WEIGHTS = "last.weights.h5"
LAST_OPTIMIZER = "last.optimizer.npz"
BEST_WEIGHTS = "best.weights.h5"


class Checkpointer(keras.callbacks.Callback):
    """Saves the run after every epoch and the best weights so far; restores callback state on resume."""

    def __init__(
        self,
        stage: str,
        model: keras.Model,
        state: dict[str, Any],
        directory: Path,
        validation: keras.callbacks.Callback,
        plateau: keras.callbacks.ReduceLROnPlateau,
        stopping: keras.callbacks.EarlyStopping,
        train_images: int,
        *,
        monitor: str = MONITOR,
        per_label_key: str = "val_auroc",
    ) -> None:
        """``validation`` is the callback that adds ``monitor`` to the logs and has ``per_label``
        (recorded under ``per_label_key``) and ``seconds``; the defaults are the classifier's."""
        super().__init__()
        self.monitor = monitor
        self.per_label_key = per_label_key
        self.stage = stage
        self.train_images = train_images
        self.network = model
        self.state = state
        self.directory = directory
        self.validation = validation
        self.plateau = plateau
        self.stopping = stopping
        self.started = 0.0
        self.learning_rate = 0.0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        # Runs after ReduceLROnPlateau and EarlyStopping reset themselves for this fit().
        saved = self.state["stages"][self.stage].get("callbacks")
        if self.state["stages"][self.stage]["epochs_done"] > 0 and saved:
            for callback, values in (
                (self.plateau, saved["plateau"]),
                (self.stopping, saved["early_stopping"]),
            ):
                for attribute, value in values.items():
                    setattr(callback, attribute, value)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.started = time.monotonic()
        self.learning_rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        seconds = time.monotonic() - self.started
        score = float(logs[self.monitor])
        progress = self.state["stages"][self.stage]
        progress["epochs_done"] = epoch + 1
        progress["callbacks"] = {
            "plateau": {
                "wait": self.plateau.wait,
                "best": _number(self.plateau.best),
                "cooldown_counter": self.plateau.cooldown_counter,
            },
            "early_stopping": {
                "wait": self.stopping.wait,
                "best": _number(self.stopping.best),
                "best_epoch": self.stopping.best_epoch,
            },
        }
        self.state["history"].append(
            {
                "stage": self.stage,
                "epoch": epoch + 1,
                "loss": _number(logs.get("loss")),
                self.monitor: score,
                self.per_label_key: self.validation.per_label,
                "learning_rate": self.learning_rate,
                "seconds": round(seconds, 2),
                # Training throughput, validation excluded (the epoch's wall time includes it).
                "images_per_second": round(
                    self.train_images / max(seconds - self.validation.seconds, 1e-9), 1
                ),
            }
        )
        _save_weights(self.network, self.directory / LAST_WEIGHTS)
        _save_optimizer(self.model.optimizer, self.directory / LAST_OPTIMIZER)
        best = self.state["best"]
        if best is None or score > best[self.monitor]:
            shutil.copyfile(self.directory / LAST_WEIGHTS, self.directory / BEST_WEIGHTS)
            self.state["best"] = {"stage": self.stage, "epoch": epoch + 1, self.monitor: score}
        write_state(self.directory, self.state)


def restore_stage(
    model: keras.Model, trainable: keras.Model, directory: Path, progress: dict[str, Any]
) -> None:
    """Set ``model`` up for a stage about to run, ``trainable`` (its logits model) freshly compiled.

    A stage interrupted part-way continues from its last epoch's weights and optimizer state.
    """
    if progress["epochs_done"] > 0:
        load_weights_file(model, directory / LAST_WEIGHTS)
        _load_optimizer(trainable.optimizer, trainable, directory / LAST_OPTIMIZER)
    elif (directory / BEST_WEIGHTS).exists():
        # A later stage starts from the best weights so far, not from the last epoch's.
        load_weights_file(model, directory / BEST_WEIGHTS)


class RunConfig(Protocol):
    """A run's settings as the checkpoint keeps them (``TrainingConfig``, the screener's config)."""

    out: str
    name: str | None
    version: str | None

    def to_dict(self) -> dict[str, Any]: ...


def new_state(config: RunConfig, data: TrainingData) -> dict[str, Any]:
    """The state file of a run that has not trained an epoch yet."""
    return fresh_state(
        config.to_dict(),
        {
            "fingerprint": data.fingerprint,
            "description": data.description,
            "train_images": len(data.train),
            "validation_images": len(data.validation),
        },
    )


def fresh_state(config: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """A two-stage ("head", "finetune") run's state before its first epoch: its settings and data record."""
    return {
        "format": STATE_FORMAT,
        "config": config,
        "data": data,
        "stages": {name: {"epochs_done": 0, "stopped_early": False} for name in ("head", "finetune")},
        "best": None,
        "history": [],
    }


def write_state(directory: Path, state: dict[str, Any]) -> None:
    atomic_write_text(directory / STATE_FILE, json.dumps(state, indent=2) + "\n")


def epochs_done(state: dict[str, Any]) -> int:
    """Epochs trained so far, over both stages."""
    return sum(stage["epochs_done"] for stage in state["stages"].values())


def _save_weights(model: keras.Model, path: Path) -> None:
    temporary = path.with_name(f".{path.stem}.tmp.weights.h5")
    model.save_weights(temporary, overwrite=True)
    os.replace(temporary, path)


def _save_optimizer(optimizer: keras.optimizers.Optimizer, path: Path) -> None:
    """Save the optimizer's variables (step count, learning rate, moments) in order, with their paths."""
    variables = optimizer.variables
    arrays = {f"v{index}": np.asarray(keras.ops.convert_to_numpy(v)) for index, v in enumerate(variables)}
    arrays["paths"] = np.array([variable.path for variable in variables])
    descriptor, temporary = tempfile.mkstemp(prefix=".optimizer-", suffix=".npz", dir=path.parent)
    os.close(descriptor)
    np.savez(temporary, **arrays)
    os.replace(temporary, path)


def _load_optimizer(optimizer: keras.optimizers.Optimizer, model: keras.Model, path: Path) -> None:
    """Restore what ``_save_optimizer`` saved into a freshly compiled optimizer of the same stage."""
    optimizer.build(model.trainable_variables)
    variables = optimizer.variables
    with np.load(path) as stored:
        values = [stored[f"v{index}"] for index in range(len(stored.files) - 1)]
        paths = [str(name) for name in stored["paths"]]
    # Keras numbers optimizer names within a process ("adam", "adam_1") and nests them under a
    # loss-scaling optimizer, so only the variables' own names (the last part) must match.
    if [_local(name) for name in paths] != [_local(variable.path) for variable in variables] or any(
        tuple(value.shape) != tuple(variable.shape) for value, variable in zip(values, variables, strict=True)
    ):
        raise DataError(f"{path} does not fit this stage's optimizer; the checkpoint is from another setup.")
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)


def _local(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _number(value: Any) -> float | None:
    # JSON has no infinity or NaN (the callbacks start their "best" at -inf).
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
