"""What the trainers share around the stage loop: a run's state, its precision, its card threshold.

``open_run`` starts a run or resumes its checkpoint, ``training_precision`` builds and trains
under mixed precision when asked for, and ``run_stages`` is the loop of the trainers that learn
labels of radiographs (the classifier's findings, the screener's abnormal/normal): the service's
own preprocessing through ``ml.training.pipeline``, the validation AUROC steering every stage
(``ml.training.stages.fit_stages``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import keras
import tensorflow as tf

from ml.errors import DataError
from ml.images.preprocessing import PreprocessingSpec
from ml.training.backbone import make_optimizer
from ml.training.checkpoints import RunConfig, epochs_done, new_state
from ml.training.config import CHECKPOINT_DIR, STATE_FILE, read_state
from ml.training.datasets import TrainingData
from ml.training.monitoring import ValidationAUROC, predictor
from ml.training.pipeline import cache_path, make_dataset
from ml.training.stages import LoopSettings, Stage, StagedData, fit_stages

# A threshold the card needs for a label that validation cannot set (no positives there).
FALLBACK_THRESHOLD = 0.5


def open_run(config: RunConfig, data: TrainingData, *, resume: bool, default_name: str) -> dict[str, Any]:
    """The run's state: its checkpoint's when resuming (refused if the data changed), else a new one.

    A new run gets ``config.version`` (trained-<UTC time>) and ``config.name`` if it has none,
    and its checkpoint folder.
    """
    checkpoint = Path(config.out) / CHECKPOINT_DIR
    if resume:
        state = read_state(checkpoint / STATE_FILE)
        if state["data"]["fingerprint"] != data.fingerprint:
            raise DataError(
                f"The data changed since the run in {config.out} began (its label tables differ); "
                "start a new run."
            )
        state["config"] = config.to_dict()
        return state
    checkpoint.mkdir(parents=True, exist_ok=True)
    if config.version is None:
        config.version = time.strftime("trained-%Y%m%d-%H%M%S", time.gmtime())
    if config.name is None:
        config.name = default_name
    return new_state(config, data)


@contextmanager
def training_precision(mixed: bool) -> Iterator[None]:
    """Build and train under float16 compute with float32 variables if ``mixed``; restore after."""
    previous_policy = keras.config.dtype_policy()
    try:
        if mixed:
            # Keras wraps the optimizer in loss scaling under this policy.
            keras.config.set_dtype_policy("mixed_float16")
        yield
    finally:
        keras.config.set_dtype_policy(previous_policy)


def wants_mixed_precision(setting: str) -> bool:
    """Whether a run's ``mixed_precision`` setting ("auto", "on", "off") trains in float16."""
    return setting == "on" or (setting == "auto" and bool(tf.config.list_physical_devices("GPU")))


def card_threshold(threshold: float | None) -> float:
    """A chosen threshold as the card stores it: in [0, 1], or the fallback where none was chosen."""
    if threshold is None:
        return FALLBACK_THRESHOLD
    return float(min(1.0, max(0.0, threshold)))


class StageSettings(LoopSettings, Protocol):
    """The settings ``run_stages`` reads (the classifier's ``TrainingConfig`` and the screener's config)."""

    channels: int
    batch_size: int
    seed: int
    augment: bool
    cache: str | None
    optimizer: str


def run_stages(
    model: keras.Model,
    logits_model: keras.Model,
    loss: keras.losses.Loss,
    stages: Sequence[Stage],
    config: StageSettings,
    data: TrainingData,
    spec: PreprocessingSpec,
    state: dict[str, Any],
    checkpoint: Path,
    mixed: bool,
    *,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int = 2,
) -> None:
    """Run the stages not finished yet, each from where its checkpoint left it.

    ``logits_model`` shares ``model``'s layers and ends at the logits ``loss`` reads. Each
    stage reduces the learning rate on a validation-AUROC plateau, stops early when it stops
    improving and checkpoints every epoch into ``state`` and ``checkpoint``.
    """
    if sum(stage.epochs for stage in stages) == 0:
        raise ValueError("Nothing to train: both stages have 0 epochs.")
    train_set, validation_set = data.train, data.validation
    dataset_options = {"spec": spec, "channels": config.channels, "batch_size": config.batch_size}
    train_data = make_dataset(
        train_set.paths,
        train_set.labels,
        training=True,
        seed=config.seed + epochs_done(state),
        augment=config.augment,
        cache=cache_path(config.cache, "train", train_set.paths, spec, config.channels),
        **dataset_options,
    )
    validation_data = make_dataset(
        validation_set.paths,
        validation_set.labels,
        training=False,
        cache=cache_path(config.cache, "validation", validation_set.paths, spec, config.channels),
        **dataset_options,
    )
    predict_logits = predictor(logits_model)

    def compile_stage(stage: Stage) -> None:
        logits_model.compile(optimizer=make_optimizer(config.optimizer, stage.learning_rate), loss=loss)

    fit_stages(
        model,
        logits_model,
        stages,
        config,
        StagedData(
            train=train_data,
            train_size=len(train_set),
            validation=lambda: ValidationAUROC(
                predict_logits, validation_data, validation_set.labels, validation_set.label_names
            ),
        ),
        compile_stage=compile_stage,
        optimizer=config.optimizer,
        state=state,
        checkpoint=checkpoint,
        mixed=mixed,
        extra_callbacks=extra_callbacks,
        verbose=verbose,
    )
