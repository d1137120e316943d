"""Train the U-Net in two stages and write a segmentation weights directory the service loads as it is.

Stage 1 ("head") trains the decoder and head on a frozen encoder; stage 2 ("finetune")
unfreezes the encoder at a lower learning rate. Each stage cuts the learning rate when the
validation mean Dice plateaus and stops early when it stops improving. After every epoch
the run is checkpointed under ``OUT/checkpoint/`` with the classifier's machinery
(``ml.training.checkpoints``: weights, optimizer and callback state, history), so an
interrupted run resumes where it stopped. At the end the best epoch's weights (by
validation mean Dice) become ``OUT/model.weights.h5`` with ``OUT/card.json``, whose
validation figures are Dice and IoU per structure with bootstrap intervals, and the run's
record goes to ``OUT/training.json``. The loss is binary cross-entropy plus soft Dice, per
structure (independent sigmoids: structures overlap).
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ml.errors import DataError
from ml.segmentation.augmentation import augment
from ml.segmentation.card import UNET_NAME, SegmentationCard, imagenet_preprocessing, unet_architecture
from ml.segmentation.config import SegmentationTrainingConfig
from ml.segmentation.data import SegmentationData, find_examples, load_arrays
from ml.segmentation.evaluation import overlap_scores, summarise
from ml.segmentation.network import save_network
from ml.segmentation.preprocessing import network_input
from ml.segmentation.unet import build_unet, freeze_encoder
from ml.training.checkpoints import (
    BEST_WEIGHTS,
    atomic_write_text,
    epochs_done,
    fresh_state,
    write_state,
)
from ml.training.config import CHECKPOINT_DIR, STATE_FILE, check_output, read_state
from ml.training.monitoring import say
from ml.training.provenance import code_version, describe_code
from ml.training.runs import training_precision, wants_mixed_precision
from ml.training.stages import Stage, StagedData, fit_stages
from ml.weights.directory import load_weights_file

MONITOR = "val_mean_dice"
TRAINING_RECORD = "training.json"


@dataclass
class SegmentationTrainingResult:
    card: SegmentationCard
    directory: Path
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _Arrays:
    images: np.ndarray  # (n, side, side) grey in [0, 1]
    masks: np.ndarray  # (n, side, side, k) 0/1


def train_segmentation(
    config: SegmentationTrainingConfig, *, resume: bool = False, verbose: int | None = None
) -> SegmentationTrainingResult:
    """Run (or, with ``resume``, continue) a run; return the card written in ``config.out``.

    Raises DataError for data problems and ValueError for bad settings.
    """
    config.validate()
    out = Path(config.out)
    checkpoint = out / CHECKPOINT_DIR
    check_output(out, resume=resume)
    state = read_state(checkpoint / STATE_FILE) if resume else None
    data = find_examples(config.data, config.patients_csv)
    if state is not None and state["data"]["fingerprint"] != data.fingerprint:
        raise DataError(f"The data changed since the run in {out} began; start a new run.")
    train_data, validation_data = data.split(config.val_fraction, config.seed)
    train = _Arrays(*load_arrays(train_data, config.input_size))
    validation = _Arrays(*load_arrays(validation_data, config.input_size))
    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2
    if state is None:
        checkpoint.mkdir(parents=True, exist_ok=True)
        config.version = config.version or time.strftime("trained-%Y%m%d-%H%M%S", time.gmtime())
        state = fresh_state(
            config.to_dict(),
            {
                "fingerprint": data.fingerprint,
                "description": data.description,
                "train_images": len(train_data),
                "validation_images": len(validation_data),
            },
        )
        write_state(checkpoint, state)
    else:
        state["config"] = config.to_dict()
    mixed = wants_mixed_precision(config.mixed_precision)
    with training_precision(mixed):
        # Resumed runs draw fresh shuffles and augmentations rather than replaying epoch 1's.
        keras.utils.set_random_seed(config.seed + epochs_done(state))
        model = build_unet(
            len(data.structures),
            config.input_size,
            tuple(config.decoder_filters),
            tuple(config.encoder_scale),
        )
        _run_stages(model, config, data.structures, train, validation, state, checkpoint, mixed, verbose)
    card = _save_best(config, data, validation_data, validation, state, checkpoint)
    return SegmentationTrainingResult(card=card, directory=out, history=list(state["history"]))


class _Batches(keras.utils.PyDataset):
    """Shuffled, augmented training batches: network inputs and float32 masks."""

    def __init__(self, arrays: _Arrays, batch_size: int, do_augment: bool, seed: int) -> None:
        super().__init__()
        self.arrays = arrays
        self.batch_size = batch_size
        self.do_augment = do_augment
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(arrays.images))
        self.preprocessing = imagenet_preprocessing()

    def __len__(self) -> int:
        return math.ceil(len(self.order) / self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        chosen = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        inputs, masks = [], []
        for i in chosen:
            image, mask = self.arrays.images[i], self.arrays.masks[i]
            if self.do_augment:
                image, mask = augment(image, mask, self.rng)
            inputs.append(network_input(image, self.preprocessing))
            masks.append(mask.astype(np.float32))
        return np.stack(inputs), np.stack(masks)

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.arrays.images))


class ValidationDice(keras.callbacks.Callback):
    """Adds the validation mean Dice (per image, at network resolution, over structures) to the logs."""

    def __init__(
        self, network: keras.Model, arrays: _Arrays, structures: tuple[str, ...], batch_size: int
    ) -> None:
        super().__init__()
        self.network = network
        self.arrays = arrays
        self.structures = structures
        self.batch_size = batch_size
        self.per_label: dict[str, float] = {}
        self.seconds = 0.0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        started = time.monotonic()
        dice, _ = score_arrays(self.network, self.arrays, self.batch_size)
        self.seconds = time.monotonic() - started
        self.per_label = {name: float(dice[:, k].mean()) for k, name in enumerate(self.structures)}
        if logs is not None:
            logs[MONITOR] = float(dice.mean())


def score_arrays(model: keras.Model, arrays: _Arrays, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-image (Dice, IoU) arrays of shape (images, structures) of the model's masks (logit >= 0)."""
    preprocessing = imagenet_preprocessing()
    count, structures = len(arrays.images), arrays.masks.shape[-1]
    dice, iou = np.zeros((count, structures)), np.zeros((count, structures))
    for start in range(0, count, batch_size):
        batch = np.stack(
            [network_input(image, preprocessing) for image in arrays.images[start : start + batch_size]]
        )
        predicted = np.asarray(model(batch, training=False)) >= 0.0
        for offset, masks in enumerate(predicted):
            for k in range(structures):
                truth = arrays.masks[start + offset, :, :, k].astype(bool)
                dice[start + offset, k], iou[start + offset, k] = overlap_scores(truth, masks[:, :, k])
    return dice, iou


def segmentation_loss(truth: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """Binary cross-entropy plus (1 - soft Dice), each averaged over the structures."""
    truth = keras.ops.cast(truth, "float32")
    logits = keras.ops.cast(logits, "float32")
    cross_entropy = keras.ops.mean(
        keras.ops.binary_crossentropy(truth, logits, from_logits=True), axis=(1, 2, 3)
    )
    probabilities = keras.ops.sigmoid(logits)
    overlap = keras.ops.sum(probabilities * truth, axis=(1, 2))
    total = keras.ops.sum(probabilities, axis=(1, 2)) + keras.ops.sum(truth, axis=(1, 2))
    soft_dice = (2.0 * overlap + 1.0) / (total + 1.0)
    return cross_entropy + 1.0 - keras.ops.mean(soft_dice, axis=-1)


def _run_stages(
    model: keras.Model,
    config: SegmentationTrainingConfig,
    structures: tuple[str, ...],
    train: _Arrays,
    validation: _Arrays,
    state: dict[str, Any],
    checkpoint: Path,
    mixed: bool,
    verbose: int,
) -> None:
    batches = _Batches(train, config.batch_size, config.augment, config.seed + epochs_done(state))
    # Compiled and fitted in place of ``model``, which stays uncompiled so that its checkpointed
    # weights files hold the layers only (the optimizer state is saved on its own).
    trainer = keras.Model(model.input, model.output, name="unet_training")
    stages = [
        Stage(name, epochs, learning_rate, description, partial(freeze_encoder, model, frozen))
        for name, epochs, learning_rate, frozen, description in (
            ("head", config.head_epochs, config.learning_rate, True, "encoder frozen"),
            ("finetune", config.finetune_epochs, config.finetune_learning_rate, False, "all layers"),
        )
    ]

    def compile_stage(stage: Stage) -> None:
        # No XLA: compiling EfficientNet's training step with it takes minutes on a CPU.
        trainer.compile(
            optimizer=keras.optimizers.Adam(learning_rate=stage.learning_rate),
            loss=segmentation_loss,
            jit_compile=False,
        )

    fit_stages(
        model,
        trainer,
        stages,
        config,
        StagedData(
            train=batches,
            train_size=len(train.images),
            validation=lambda: ValidationDice(model, validation, structures, config.batch_size),
            monitor=MONITOR,
            per_label_key="val_dice",
        ),
        compile_stage=compile_stage,
        optimizer="adam",
        state=state,
        checkpoint=checkpoint,
        mixed=mixed,
        verbose=verbose,
    )


def _save_best(
    config: SegmentationTrainingConfig,
    data: SegmentationData,
    validation_data: SegmentationData,
    validation: _Arrays,
    state: dict[str, Any],
    checkpoint: Path,
) -> SegmentationCard:
    """Reload the best epoch in float32, score it on validation, write the card and the run's record."""
    if state["best"] is None:
        raise DataError(f"The run in {config.out} has no completed epoch to save.")
    model = build_unet(
        len(data.structures), config.input_size, tuple(config.decoder_filters), tuple(config.encoder_scale)
    )
    load_weights_file(model, checkpoint / BEST_WEIGHTS)
    dice, iou = score_arrays(model, validation, config.batch_size)
    figures = summarise(data.structures, dice, iou, resamples=config.bootstrap, seed=config.seed)
    code = code_version()
    card = SegmentationCard(
        name=config.name or UNET_NAME,
        version=config.version or "trained",
        architecture=unet_architecture(tuple(config.decoder_filters), tuple(config.encoder_scale)),
        structures=data.structures,
        input_size=config.input_size,
        preprocessing=imagenet_preprocessing(),
        trained=True,
        training_data=f"{data.description}. Code: {describe_code(code)}.",
        validation={
            "split": f"{len(validation_data)} radiographs, a seeded {config.val_fraction:g} of the patients",
            "resolution": f"{config.input_size}x{config.input_size} (network)",
            "best_epoch": state["best"],
            **figures,
        },
        notes=f"{config.input_size}x{config.input_size} input; EfficientNetB0 encoder trained from random "
        "initialisation (no ImageNet weights are downloaded).",
    )
    out = Path(config.out)
    written = save_network(model, out, card)
    record = {
        "card": written.to_dict(),
        "config": config.to_dict(),
        "data": state["data"],
        "split": {
            "train": [
                example.image.name for example in data.examples if example not in validation_data.examples
            ],
            "validation": [example.image.name for example in validation_data.examples],
        },
        "code": code,
        "best": state["best"],
        "history": state["history"],
    }
    atomic_write_text(out / TRAINING_RECORD, json.dumps(record, indent=2) + "\n")
    say(f"Saved {out} ({written.name} {written.version}): validation mean Dice {figures['mean_dice']:.4f}.")
    return written
