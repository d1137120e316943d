"""Train DenseNet121 in two stages and write a weights directory the service loads as it is.

Stage 1 ("head") trains the dense head on a frozen backbone; stage 2 ("finetune")
unfreezes the last dense blocks at a lower learning rate. Each stage reduces the learning
rate when the validation mean AUROC plateaus and stops early when it stops improving. After
every epoch the run is checkpointed under ``OUT/checkpoint/`` (weights, optimizer state,
callback state, history), so an interrupted run resumes where it stopped. At the end the
weights of the best epoch (by validation mean AUROC) are written as ``OUT/model.weights.h5``
with ``OUT/card.json``, whose thresholds are chosen on the validation set; the validation
report goes to ``OUT/validation/`` and the full record of the run to ``OUT/training.json``.

This module is the loop that ties the steps together; each step has its own module:
``backbone`` (initial weights, which layers train, the optimizer), ``monitoring`` (the
validation AUROC every decision follows), ``checkpoints`` (saving and resuming) and
``cards`` (thresholds, card and reports from the best epoch).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import keras
import tensorflow as tf

from ml.classifier.card import ModelCard
from ml.classifier.network import LOGITS_LAYER, build_densenet121
from ml.errors import DataError
from ml.images.preprocessing import PreprocessingSpec, default_preprocessing
from ml.training.backbone import describe_unfrozen, initialise, make_optimizer, set_trainable
from ml.training.cards import default_name, save_best
from ml.training.checkpoints import (
    RunConfig,
    epochs_done,
    new_state,
    write_state,
)
from ml.training.config import CHECKPOINT_DIR, STATE_FILE, TrainingConfig, check_output, read_state
from ml.training.datasets import TrainingData, load_training_data
from ml.training.losses import ClassBalancedBinaryCrossentropy, class_balance_weights
from ml.training.monitoring import ValidationAUROC, predictor
from ml.training.pipeline import cache_path, make_dataset
from ml.training.stages import LoopSettings, Stage, StagedData, fit_stages


@dataclass
class TrainingResult:
    """What a finished run wrote: the card (as saved), its folder and the epoch history."""

    card: ModelCard
    directory: Path
    history: list[dict[str, Any]] = field(default_factory=list)


def train(
    config: TrainingConfig,
    *,
    resume: bool = False,
    data: TrainingData | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | None = None,
) -> TrainingResult:
    """Run (or, with ``resume``, continue) a training run; return the card written in ``config.out``.

    ``data`` is ``load_training_data(config.data_options())`` if the caller has it already.
    ``callbacks`` run after the trainer's own at every epoch (TensorBoard, say).
    ``verbose`` is Keras's: 1 a progress bar, 2 a line per epoch, 0 silence (default: a
    bar on a terminal, lines otherwise). Raises DataError for data problems and ValueError
    for bad settings.
    """
    config.validate()
    out = Path(config.out)
    checkpoint = out / CHECKPOINT_DIR
    check_output(out, resume=resume)
    if data is None:
        data = load_training_data(config.data_options())
    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2
    labels = data.train.label_names
    state = open_run(config, data, resume=resume, default_name=default_name(labels))
    mixed = wants_mixed_precision(config.mixed_precision)
    with training_precision(mixed):
        # Resumed runs draw fresh shuffles and augmentations rather than replaying epoch 1's.
        keras.utils.set_random_seed(config.seed + epochs_done(state))
        model = build_densenet121(len(labels), config.channels, config.input_size)
        spec = PreprocessingSpec.from_dict(default_preprocessing(config.input_size))
        if epochs_done(state) == 0:
            # Until an epoch is checkpointed, a resumed run starts over from the initial weights.
            state["initialisation"] = initialise(model, config, spec)
            write_state(checkpoint, state)
        pretrained = state["initialisation"]["kind"] == "imagenet"
        _run_stages(model, config, data, spec, state, checkpoint, pretrained, mixed, list(callbacks), verbose)
    card = save_best(config, data, spec, state, checkpoint)
    return TrainingResult(card=card, directory=out, history=list(state["history"]))


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


def _run_stages(
    model: keras.Model,
    config: TrainingConfig,
    data: TrainingData,
    spec: PreprocessingSpec,
    state: dict[str, Any],
    checkpoint: Path,
    pretrained: bool,
    mixed: bool,
    extra_callbacks: list[keras.callbacks.Callback],
    verbose: int,
) -> None:
    """DenseNet121's two stages (head, then the last dense blocks), run by ``run_stages``."""
    # The trainable model ends at the logits: the loss is computed from them, exactly.
    logits_model = keras.Model(model.input, model.get_layer(LOGITS_LAYER).output, name="densenet121_logits")
    loss = ClassBalancedBinaryCrossentropy(*class_balance_weights(data.train.labels))
    head_epochs = config.head_epochs if config.head_epochs is not None else (2 if pretrained else 0)
    unfreeze = config.unfreeze if config.unfreeze != "auto" else ("1" if pretrained else "all")
    stages = [
        Stage(
            name,
            epochs,
            learning_rate,
            describe_unfrozen(unfrozen),
            partial(set_trainable, model, unfrozen, train_batchnorm=not pretrained),
        )
        for name, epochs, learning_rate, unfrozen in (
            ("head", head_epochs, config.learning_rate, None),
            ("finetune", config.finetune_epochs, config.finetune_learning_rate, unfreeze),
        )
    ]
    run_stages(
        model,
        logits_model,
        loss,
        stages,
        config,
        data,
        spec,
        state,
        checkpoint,
        mixed,
        extra_callbacks=extra_callbacks,
        verbose=verbose,
    )


class StageSettings(LoopSettings, Protocol):
    """The settings ``run_stages`` reads (``TrainingConfig`` and the screener's config have them)."""

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
