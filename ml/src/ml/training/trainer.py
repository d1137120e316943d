"""Train DenseNet121 in two stages and write a weights directory the service loads as it is.

Stage 1 ("head") trains the dense head on a frozen backbone; stage 2 ("finetune")
unfreezes the last dense blocks at a lower learning rate. Each stage reduces the learning
rate when the validation mean AUROC plateaus and stops early when it stops improving. After
every epoch the run is checkpointed under ``OUT/checkpoint/`` (weights, optimizer state,
callback state, history), so an interrupted run resumes where it stopped. At the end the
weights of the best epoch (by validation mean AUROC) are written as ``OUT/model.weights.h5``
with ``OUT/card.json``, whose thresholds are chosen on the validation set; the validation
report goes to ``OUT/validation/`` and the full record of the run to ``OUT/training.json``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ml.evaluation.metrics import ThresholdRule, auroc
from ml.evaluation.report import evaluate_findings, write_evaluation
from ml.inference.model import LOGITS_LAYER, build_densenet121
from ml.inference.preprocessing import PreprocessingSpec, default_preprocessing
from ml.training.chestxray14 import EIGHT_CLASS_LABELS
from ml.training.config import (
    CHECKPOINT_DIR,
    STATE_FILE,
    STATE_FORMAT,
    TrainingConfig,
    check_output,
    read_state,
)
from ml.training.datasets import ImageSet, TrainingData, load_training_data
from ml.training.errors import DataError
from ml.training.initialisation import default_imagenet_path, load_imagenet_backbone
from ml.training.losses import ClassBalancedBinaryCrossentropy, class_balance_weights
from ml.training.pipeline import make_dataset
from ml.training.provenance import code_version, describe_code
from ml.weights.card import ModelCard
from ml.weights.directory import load_weights_file, save_weights_directory
from ml.weights.registry import MODEL_NAME, sha256_file

LAST_WEIGHTS = "last.weights.h5"
LAST_OPTIMIZER = "last.optimizer.npz"
BEST_WEIGHTS = "best.weights.h5"
TRAINING_RECORD = "training.json"
VALIDATION_DIR = "validation"
MONITOR = "val_mean_auroc"
# A threshold the card needs for a label that validation cannot set (no positives there).
FALLBACK_THRESHOLD = 0.5


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
    state = read_state(checkpoint / STATE_FILE) if resume else None
    if state is not None:
        state["config"] = config.to_dict()
    if data is None:
        data = load_training_data(config.data_options())
    if state is not None and state["data"]["fingerprint"] != data.fingerprint:
        raise DataError(
            f"The data changed since the run in {out} began (its label tables differ); start a new run."
        )
    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2

    mixed = config.mixed_precision == "on" or (
        config.mixed_precision == "auto" and bool(tf.config.list_physical_devices("GPU"))
    )
    labels = data.train.label_names
    if state is None:
        checkpoint.mkdir(parents=True, exist_ok=True)
        if config.version is None:
            config.version = time.strftime("trained-%Y%m%d-%H%M%S", time.gmtime())
        if config.name is None:
            config.name = _default_name(labels)
        state = _new_state(config, data)
    previous_policy = keras.config.dtype_policy()
    try:
        if mixed:
            # Float16 compute with float32 variables; Keras wraps the optimizer in loss scaling.
            keras.config.set_dtype_policy("mixed_float16")
        # Resumed runs draw fresh shuffles and augmentations rather than replaying epoch 1's.
        keras.utils.set_random_seed(config.seed + _epochs_done(state))
        model = build_densenet121(len(labels), config.channels, config.input_size)
        spec = PreprocessingSpec.from_dict(default_preprocessing(config.input_size))
        if _epochs_done(state) == 0:
            # Until an epoch is checkpointed, a resumed run starts over from the initial weights.
            state["initialisation"] = _initialise(model, config, spec)
            _write_state(checkpoint, state)
        pretrained = state["initialisation"]["kind"] == "imagenet"
        _run_stages(model, config, data, spec, state, checkpoint, pretrained, mixed, list(callbacks), verbose)
    finally:
        keras.config.set_dtype_policy(previous_policy)
    return _finish(config, data, spec, state, checkpoint)


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
    train_set, validation_set = data.train, data.validation
    dataset_options = {"spec": spec, "channels": config.channels, "batch_size": config.batch_size}
    train_data = make_dataset(
        train_set.paths,
        train_set.labels,
        training=True,
        seed=config.seed + _epochs_done(state),
        augment=config.augment,
        cache=_cache_path(config.cache, "train", train_set, spec, config.channels),
        **dataset_options,
    )
    validation_data = make_dataset(
        validation_set.paths,
        validation_set.labels,
        training=False,
        cache=_cache_path(config.cache, "validation", validation_set, spec, config.channels),
        **dataset_options,
    )
    # The trainable model ends at the logits: the loss is computed from them, exactly.
    logits_model = keras.Model(model.input, model.get_layer(LOGITS_LAYER).output, name="densenet121_logits")
    predict_logits = _predictor(logits_model)
    loss = ClassBalancedBinaryCrossentropy(*class_balance_weights(train_set.labels))
    head_epochs = config.head_epochs if config.head_epochs is not None else (2 if pretrained else 0)
    unfreeze = config.unfreeze if config.unfreeze != "auto" else ("1" if pretrained else "all")
    stages = [
        ("head", head_epochs, config.learning_rate, None),
        ("finetune", config.finetune_epochs, config.finetune_learning_rate, unfreeze),
    ]
    if head_epochs + config.finetune_epochs == 0:
        raise ValueError("Nothing to train: both stages have 0 epochs.")
    for number, (name, epochs, learning_rate, unfrozen) in enumerate(stages, start=1):
        progress = state["stages"][name]
        if progress["stopped_early"] or progress["epochs_done"] >= epochs:
            continue
        trainable = _set_trainable(model, unfrozen, train_batchnorm=not pretrained)
        _say(
            f"Stage {number}/2 ({name}): {_describe_unfrozen(unfrozen)}, {trainable:,} trainable weights, "
            f"epochs {progress['epochs_done'] + 1}-{epochs}, {config.optimizer} at {learning_rate:g}"
            f"{', mixed precision' if mixed else ''}."
        )
        optimizer = _optimizer(config.optimizer, learning_rate)
        logits_model.compile(optimizer=optimizer, loss=loss)
        if progress["epochs_done"] > 0:
            load_weights_file(model, checkpoint / LAST_WEIGHTS)
            _load_optimizer(logits_model.optimizer, logits_model, checkpoint / LAST_OPTIMIZER)
        elif (checkpoint / BEST_WEIGHTS).exists():
            # A later stage starts from the best weights so far, not from the last epoch's.
            load_weights_file(model, checkpoint / BEST_WEIGHTS)
        validation = _ValidationAUROC(
            predict_logits, validation_data, validation_set.labels, validation_set.label_names
        )
        plateau = keras.callbacks.ReduceLROnPlateau(
            monitor=MONITOR, mode="max", factor=config.lr_factor, patience=config.lr_patience, verbose=1
        )
        stopping = keras.callbacks.EarlyStopping(
            monitor=MONITOR, mode="max", patience=config.early_stopping_patience, verbose=1
        )
        saver = _Checkpointer(name, model, state, checkpoint, validation, plateau, stopping, len(train_set))
        logits_model.fit(
            train_data,
            epochs=epochs,
            initial_epoch=progress["epochs_done"],
            callbacks=[validation, plateau, stopping, saver, *extra_callbacks],
            verbose=verbose,
            # The dataset shuffles itself; Keras cannot shuffle a tf.data.Dataset.
            shuffle=False,
        )
        if stopping.stopped_epoch > 0:
            progress["stopped_early"] = True
            _write_state(checkpoint, state)


class _ValidationAUROC(keras.callbacks.Callback):
    """Adds the validation mean AUROC (over labels with both classes) to each epoch's logs."""

    def __init__(
        self,
        predict: tf.types.experimental.PolymorphicFunction,
        dataset: tf.data.Dataset,
        truth: np.ndarray,
        labels: tuple[str, ...],
    ) -> None:
        super().__init__()
        self.predict = predict
        self.dataset = dataset
        self.truth = truth
        self.labels = labels
        self.per_label: dict[str, float | None] = {}
        self.seconds = 0.0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        started = time.monotonic()
        logits = _predict(self.predict, self.dataset)
        self.seconds = time.monotonic() - started
        areas = [auroc(self.truth[:, column], logits[:, column]) for column in range(len(self.labels))]
        self.per_label = {
            label: (None if math.isnan(area) else area)
            for label, area in zip(self.labels, areas, strict=True)
        }
        defined = [area for area in areas if not math.isnan(area)]
        if logs is not None:
            logs[MONITOR] = float(np.mean(defined))


class _Checkpointer(keras.callbacks.Callback):
    """Saves the run after every epoch and the best weights so far; restores callback state on resume."""

    def __init__(
        self,
        stage: str,
        model: keras.Model,
        state: dict[str, Any],
        directory: Path,
        validation: _ValidationAUROC,
        plateau: keras.callbacks.ReduceLROnPlateau,
        stopping: keras.callbacks.EarlyStopping,
        train_images: int,
    ) -> None:
        super().__init__()
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
        score = float(logs[MONITOR])
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
                "val_mean_auroc": score,
                "val_auroc": self.validation.per_label,
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
        if best is None or score > best["val_mean_auroc"]:
            shutil.copyfile(self.directory / LAST_WEIGHTS, self.directory / BEST_WEIGHTS)
            self.state["best"] = {"stage": self.stage, "epoch": epoch + 1, "val_mean_auroc": score}
        _write_state(self.directory, self.state)


def _finish(
    config: TrainingConfig,
    data: TrainingData,
    spec: PreprocessingSpec,
    state: dict[str, Any],
    checkpoint: Path,
) -> TrainingResult:
    """Reload the best epoch in float32, choose thresholds on validation, write card and reports."""
    if state["best"] is None:
        raise DataError(f"The run in {config.out} has no completed epoch to save.")
    labels = data.train.label_names
    model = build_densenet121(len(labels), config.channels, config.input_size)
    load_weights_file(model, checkpoint / BEST_WEIGHTS)
    validation = data.validation
    dataset = make_dataset(
        validation.paths,
        validation.labels,
        spec=spec,
        channels=config.channels,
        batch_size=config.batch_size,
        training=False,
    )
    probabilities = _predict(_predictor(model), dataset)
    truth = validation.labels.astype(np.uint8)
    rule = ThresholdRule.parse(config.threshold)
    result = evaluate_findings(
        truth, probabilities, labels, thresholds=rule, resamples=config.bootstrap, seed=config.seed
    )
    thresholds = {label: _card_threshold(result["findings"][label]["threshold"]) for label in labels}
    code = code_version()
    initialisation = state["initialisation"]
    training_data = (
        f"{data.description}. Initialisation: {initialisation['description']}. Code: {describe_code(code)}."
    )
    card = ModelCard(
        name=config.name or _default_name(labels),
        version=config.version or "trained",
        labels=labels,
        input_size=config.input_size,
        input_channels=config.channels,
        preprocessing=spec.to_dict(),
        thresholds=thresholds,
        weights_sha256=None,
        trained=True,
        training_data=training_data,
        validation=_card_validation(result, data, state, rule),
    )
    out = Path(config.out)
    written = save_weights_directory(model, out, card)
    write_evaluation(
        out / VALIDATION_DIR,
        result,
        truth,
        probabilities,
        title=f"Validation of {written.name} {written.version}",
        details={
            "model": {
                "name": written.name,
                "version": written.version,
                "weights_sha256": written.weights_sha256,
            }
        },
        summary=[
            f"model: {written.name} {written.version} (weights sha256 {written.weights_sha256})",
            f"validation set: {len(validation)} images of {len(set(validation.groups))} patients",
            f"best epoch: {state['best']['stage']} epoch {state['best']['epoch']}",
        ],
    )
    record = {
        "card": written.to_dict(),
        "config": config.to_dict(),
        "data": data.record,
        "initialisation": initialisation,
        "code": code,
        "best": state["best"],
        "stages": {
            name: {key: value for key, value in stage.items() if key != "callbacks"}
            for name, stage in state["stages"].items()
        },
        "history": state["history"],
        "validation_report": f"{VALIDATION_DIR}/report.md",
    }
    _atomic_write_text(out / TRAINING_RECORD, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    _say(
        f"Saved {out} ({written.name} {written.version}): validation mean AUROC "
        f"{result['mean_auroc']:.4f} at {state['best']['stage']} epoch {state['best']['epoch']}."
    )
    return TrainingResult(card=written, directory=out, history=list(state["history"]))


def _card_validation(
    result: dict[str, Any], data: TrainingData, state: dict[str, Any], rule: ThresholdRule
) -> dict[str, Any]:
    """The validation figures the card carries (the full report is in ``validation/``)."""
    findings = {}
    for label, entry in result["findings"].items():
        findings[label] = {
            "positives": entry["positives"],
            "negatives": entry["negatives"],
            "auroc": entry["auroc"],
            "auroc_ci95": entry["auroc_ci95"],
            # A label validation cannot set a threshold for keeps the card's fallback, and says so.
            "threshold": _card_threshold(entry["threshold"]),
            "threshold_from": "validation" if entry["threshold"] is not None else "default",
            "sensitivity": entry["tpr"],
            "specificity": entry["tnr"],
            "ppv": entry["ppv"],
            "f1": entry["f1"],
        }
    return {
        "split": data.record["split"],
        "images": len(data.validation),
        "patients": len(set(data.validation.groups)),
        "mean_auroc": result["mean_auroc"],
        "mean_auroc_ci95": result["mean_auroc_ci95"],
        "threshold_method": rule.describe(),
        "best_epoch": state["best"],
        "findings": findings,
    }


def _predictor(model: keras.Model) -> tf.types.experimental.PolymorphicFunction:
    """The model's inference-mode forward pass, traced once for any batch size."""
    _, size, _, channels = model.input_shape
    return tf.function(
        lambda images: model(images, training=False),
        input_signature=[tf.TensorSpec((None, size, size, channels), tf.float32)],
    )


def _predict(function: tf.types.experimental.PolymorphicFunction, dataset: tf.data.Dataset) -> np.ndarray:
    """Outputs for every image of an unshuffled (images, labels) dataset, in its order, as float64."""
    return np.concatenate([np.asarray(function(images), dtype=np.float64) for images, _ in dataset])


def _initialise(model: keras.Model, config: TrainingConfig, spec: PreprocessingSpec) -> dict[str, Any]:
    """Load ImageNet weights when asked for or found locally; describe what was done."""
    choice = config.imagenet_weights
    path = default_imagenet_path() if choice == "auto" else None if choice == "none" else Path(choice)
    if path is None or (choice == "auto" and not path.is_file()):
        reason = "disabled" if choice == "none" else f"no ImageNet weights at {path}"
        _say(f"Initialisation: random ({reason}).")
        return {"kind": "random", "description": f"random ({reason})"}
    if not path.is_file():
        raise DataError(f"The ImageNet weights file {path} does not exist.")
    try:
        layers = load_imagenet_backbone(model, path, spec)
    except ValueError as error:
        raise DataError(str(error)) from error
    digest = sha256_file(path)
    _say(f"Initialisation: ImageNet DenseNet121 weights from {path} ({layers} layers).")
    return {
        "kind": "imagenet",
        "path": str(path),
        "sha256": digest,
        "description": f"ImageNet DenseNet121 ({path.name}, sha256 {digest[:16]})",
    }


def _set_trainable(model: keras.Model, unfreeze: str | None, *, train_batchnorm: bool) -> int:
    """Freeze the backbone up to the unfrozen dense blocks; return the number of trainable weights.

    ``unfreeze`` None trains the head only; "1" to "4" the last that many dense blocks (with
    the transitions between them and the final normalisation); "all" everything. Batch
    normalisation layers of a pretrained backbone stay frozen (in inference mode), as Keras's
    fine-tuning guide advises; a randomly initialised one must learn its statistics.
    """
    names = [layer.name for layer in model.layers]
    if unfreeze is None:
        start = len(names)
    elif unfreeze == "all":
        start = 0
    else:
        first = f"conv{6 - int(unfreeze)}_block1_0_bn"
        if first not in names:
            raise ValueError(f"The model has no layer {first!r}; is it DenseNet121?")
        start = names.index(first)
    for index, layer in enumerate(model.layers):
        if layer.name == LOGITS_LAYER:
            layer.trainable = True
        elif index < start:
            layer.trainable = False
        elif isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = train_batchnorm
        else:
            layer.trainable = True
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


def _describe_unfrozen(unfreeze: str | None) -> str:
    if unfreeze is None:
        return "head only, backbone frozen"
    if unfreeze == "all":
        return "all layers"
    return f"last {unfreeze} dense block(s) and head"


def _optimizer(name: str, learning_rate: float) -> keras.optimizers.Optimizer:
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=learning_rate)
    return keras.optimizers.Adam(learning_rate=learning_rate)


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


def _new_state(config: TrainingConfig, data: TrainingData) -> dict[str, Any]:
    return {
        "format": STATE_FORMAT,
        "config": config.to_dict(),
        "data": {
            "fingerprint": data.fingerprint,
            "description": data.description,
            "train_images": len(data.train),
            "validation_images": len(data.validation),
        },
        "stages": {name: {"epochs_done": 0, "stopped_early": False} for name in ("head", "finetune")},
        "best": None,
        "history": [],
    }


def _write_state(directory: Path, state: dict[str, Any]) -> None:
    _atomic_write_text(directory / STATE_FILE, json.dumps(state, indent=2) + "\n")


def _atomic_write_text(path: Path, text: str) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def _epochs_done(state: dict[str, Any]) -> int:
    return sum(stage["epochs_done"] for stage in state["stages"].values())


def _cache_path(
    cache: str | None, split: str, images: ImageSet, spec: PreprocessingSpec, channels: int
) -> str | None:
    """The file prefix of a split's on-disk cache, named after exactly what it holds.

    Another split, image size or channel count gets other files, so a cache folder shared
    by several runs never feeds a run tensors of another's. A lock file left by a run that
    was interrupted while filling the cache would make TensorFlow refuse to start; such a
    run left the cache incomplete anyway, so the lock is removed and the cache refilled.
    """
    if cache is None or cache == "memory":
        return cache
    digest = hashlib.sha256(
        json.dumps([[str(path) for path in images.paths], spec.to_dict(), channels]).encode("utf-8")
    ).hexdigest()[:16]
    prefix = Path(cache) / f"{split}-{digest}"
    prefix.parent.mkdir(parents=True, exist_ok=True)
    for lock in prefix.parent.glob(f"{prefix.name}*.lockfile"):
        lock.unlink(missing_ok=True)
    return str(prefix)


def _card_threshold(threshold: float | None) -> float:
    if threshold is None:
        return FALLBACK_THRESHOLD
    return float(min(1.0, max(0.0, threshold)))


def _default_name(labels: tuple[str, ...]) -> str:
    if labels == EIGHT_CLASS_LABELS:
        return f"{MODEL_NAME}-8class"
    from ml.labels import CHESTXRAY14_LABELS

    return MODEL_NAME if labels == CHESTXRAY14_LABELS else "densenet121-multilabel"


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
