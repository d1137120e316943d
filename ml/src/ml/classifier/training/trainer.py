"""Train DenseNet121 in two stages and write a weights directory the service loads as it is.

Stage 1 ("head") trains the dense head on a frozen backbone; stage 2 ("finetune")
unfreezes the last dense blocks at a lower learning rate. Each stage reduces the learning
rate when the validation mean AUROC plateaus and stops early when it stops improving. After
every epoch the run is checkpointed under ``OUT/checkpoint/`` (weights, optimizer state,
callback state, history), so an interrupted run resumes where it stopped. At the end the
weights of the best epoch (by validation mean AUROC) are written as ``OUT/model.weights.h5``
with ``OUT/card.json``, whose thresholds are chosen on the validation set; the validation
report goes to ``OUT/validation/`` and the full record of the run to ``OUT/training.json``.

This module ties the classifier's steps together: ``backbone`` (initial weights, which dense
blocks train) and ``cards`` (thresholds, card and reports from the best epoch) are its own;
the loop every trainer shares is ``ml.training`` (``runs.run_stages`` over ``stages.fit_stages``,
``monitoring``'s validation AUROC, ``checkpoints`` for saving and resuming).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import keras

from ml.classifier.card import ModelCard
from ml.classifier.network import LOGITS_LAYER, build_densenet121
from ml.classifier.training.backbone import describe_unfrozen, initialise, set_trainable
from ml.classifier.training.cards import default_name, save_best
from ml.classifier.training.config import TrainingConfig
from ml.images.preprocessing import PreprocessingSpec, default_preprocessing
from ml.training.checkpoints import epochs_done, write_state
from ml.training.config import CHECKPOINT_DIR, check_output
from ml.training.datasets import TrainingData, load_training_data
from ml.training.losses import ClassBalancedBinaryCrossentropy, class_balance_weights
from ml.training.runs import open_run, run_stages, training_precision, wants_mixed_precision
from ml.training.stages import Stage


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
