"""``python -m ml train-ct``: the slice ResNet-18 on MosMedData, steered by patient-level AUROC.

The volumes are split by patient (one volume each), stratified by label. Every slice is
labelled with its volume's grade and the loss is class-balanced over slices
(``ml.training.losses``). After every epoch the validation slices are scored, pooled per
patient by the card's rule, and the patient-level AUROC drives the learning-rate cuts,
early stopping and the best epoch (``ml.training.monitoring``); the run is checkpointed and
resumes where it stopped (``ml.training.checkpoints``). Mixed precision is used when
TensorFlow sees a GPU. At the end the best epoch's weights are reloaded in float32, the
threshold is chosen by F1 on the validation patients, and OUT/ becomes a CT weights
directory (card.json, model.weights.h5) with training.json and validation.json beside it;
OUT/test_patients.txt lists the patients held out of both training and validation.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ml.ct.card import CT_LABEL, CT_MODEL_NAME, CTModelCard
from ml.ct.model import LOGITS_LAYER, build_resnet18
from ml.ct.mosmed import Volume, find_volumes, fingerprint, split_by_patient
from ml.ct.slice_data import SliceBatches, SliceSet, load_slice_set
from ml.ct.window import LungWindow
from ml.errors import DataError
from ml.evaluation.binary import binary_report, describe_operating_point
from ml.evaluation.metrics import ThresholdRule
from ml.training.backbone import make_optimizer, train_from
from ml.training.checkpoints import (
    BEST_WEIGHTS,
    atomic_write_text,
    epochs_done,
    write_state,
)
from ml.training.config import CHECKPOINT_DIR, STATE_FILE, STATE_FORMAT, check_output, read_state
from ml.training.losses import ClassBalancedBinaryCrossentropy, class_balance_weights
from ml.training.monitoring import ValidationAUROC, predict, predictor, say
from ml.training.provenance import code_version, describe_code
from ml.training.runs import card_threshold, training_precision, wants_mixed_precision
from ml.training.stages import Stage, StagedData, fit_stages
from ml.weights.directory import load_weights_file, save_weights_directory

STAGE = "train"
TRAINING_RECORD = "training.json"
VALIDATION_RECORD = "validation.json"
TEST_PATIENTS = "test_patients.txt"


@dataclass
class CTTrainingConfig:
    """A train-ct run's settings (all recorded in training.json)."""

    data: Path
    out: Path
    positive_grades: tuple[str, ...]
    input_size: int = 224
    base_filters: int = 64
    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    validation_fraction: float = 0.2
    test_fraction: float = 0.15
    aggregation: str = "mean"
    window: LungWindow = dataclasses.field(default_factory=LungWindow)
    early_stopping_patience: int = 5
    lr_patience: int = 2
    lr_factor: float = 0.2
    mixed_precision: str = "auto"
    bootstrap: int = 1000
    seed: int = 0
    name: str = CT_MODEL_NAME
    version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        record = dataclasses.asdict(self)
        record.update(data=str(self.data), out=str(self.out), positive_grades=list(self.positive_grades))
        record["window"] = self.window.to_dict()
        return record


@dataclass(frozen=True)
class CTTrainingResult:
    """What a finished run wrote: the card (as saved), its folder and the epoch history."""

    card: CTModelCard
    directory: Path
    history: list[dict[str, Any]]


def train_ct(
    config: CTTrainingConfig, *, resume: bool = False, verbose: int | None = None
) -> CTTrainingResult:
    """Run (or, with ``resume``, continue) a run; return the card written in ``config.out``."""
    out = Path(config.out)
    checkpoint = out / CHECKPOINT_DIR
    check_output(out, resume=resume)
    volumes = find_volumes(config.data, config.positive_grades)
    split = split_by_patient(volumes, config.validation_fraction, config.test_fraction, config.seed)
    train_volumes, validation_volumes = split.train, split.validation
    data_record = {
        "fingerprint": fingerprint(volumes),
        "split": "by patient, stratified by label",
        "train_volumes": [volume.patient for volume in train_volumes],
        "validation_volumes": [volume.patient for volume in validation_volumes],
        "test_volumes": [volume.patient for volume in split.test],
    }
    state = read_state(checkpoint / STATE_FILE) if resume else None
    if state is not None and state["data"]["fingerprint"] != data_record["fingerprint"]:
        raise DataError(f"The data changed since the run in {out} began; start a new run.")
    say(
        f"Reading {len(volumes)} volumes ({_describe(train_volumes)} train, "
        f"{_describe(validation_volumes)} validation; {_describe(split.test)} held out)."
    )
    train_set = load_slice_set(train_volumes, config.window, config.input_size)
    validation_set = load_slice_set(validation_volumes, config.window, config.input_size)
    if state is None:
        checkpoint.mkdir(parents=True, exist_ok=True)
        # The held-out patients, for ``evaluate-ct --patients OUT/test_patients.txt``.
        atomic_write_text(
            out / TEST_PATIENTS, "".join(f"{patient}\n" for patient in data_record["test_volumes"])
        )
        config.version = config.version or time.strftime("trained-%Y%m%d-%H%M%S", time.gmtime())
        state = {
            "format": STATE_FORMAT,
            "config": config.to_dict(),
            "data": data_record,
            "stages": {STAGE: {"epochs_done": 0, "stopped_early": False}},
            "best": None,
            "history": [],
        }
        write_state(checkpoint, state)
    else:
        config.version = state["config"]["version"]
    mixed = wants_mixed_precision(config.mixed_precision)
    with training_precision(mixed):
        keras.utils.set_random_seed(config.seed + epochs_done(state))
        _fit(config, state, checkpoint, train_set, validation_set, mixed, verbose)
    card = _save_best(config, state, checkpoint, validation_set)
    return CTTrainingResult(card=card, directory=out, history=list(state["history"]))


def _fit(
    config: CTTrainingConfig,
    state: dict[str, Any],
    checkpoint: Path,
    train_set: SliceSet,
    validation_set: SliceSet,
    mixed: bool,
    verbose: int | None,
) -> None:
    progress = state["stages"][STAGE]
    if progress["stopped_early"] or progress["epochs_done"] >= config.epochs:
        return
    model = build_resnet18(config.input_size, config.base_filters)
    logits_model = keras.Model(model.input, model.get_layer(LOGITS_LAYER).output, name="resnet18_ct_logits")
    loss = ClassBalancedBinaryCrossentropy(*class_balance_weights(train_set.labels[:, None]))
    validation_batches = SliceBatches(validation_set, config.batch_size, shuffle=False)

    def patient_probabilities(logits: np.ndarray) -> np.ndarray:
        # sigmoid(z) = exp(-log(1 + exp(-z))), without overflow for very negative logits.
        return validation_set.pool(np.exp(-np.logaddexp(0.0, -logits)), config.aggregation)

    def compile_stage(stage: Stage) -> None:
        logits_model.compile(optimizer=make_optimizer(config.optimizer, stage.learning_rate), loss=loss)

    every_layer_trains = partial(train_from, model, 0, head=(), train_batchnorm=True)
    say(
        f"Training ResNet-18 ({config.base_filters} base filters, {config.input_size}px) on "
        f"{len(train_set.labels)} slices; monitoring patient-level validation AUROC ({config.aggregation})."
    )
    fit_stages(
        model,
        logits_model,
        [Stage(STAGE, config.epochs, config.learning_rate, "all layers", every_layer_trains)],
        config,
        StagedData(
            train=SliceBatches(
                train_set, config.batch_size, shuffle=True, seed=config.seed, epoch=progress["epochs_done"]
            ),
            train_size=len(train_set.labels),
            validation=lambda: ValidationAUROC(
                predictor(logits_model),
                validation_batches,
                validation_set.volume_labels[:, None],
                (CT_LABEL,),
                pool=patient_probabilities,
            ),
        ),
        compile_stage=compile_stage,
        optimizer=config.optimizer,
        state=state,
        checkpoint=checkpoint,
        mixed=mixed,
        verbose=(1 if sys.stdout.isatty() else 2) if verbose is None else verbose,
    )


def _save_best(
    config: CTTrainingConfig, state: dict[str, Any], checkpoint: Path, validation_set: SliceSet
) -> CTModelCard:
    """Reload the best epoch in float32, choose the threshold by F1 on validation patients, write OUT/."""
    if state["best"] is None:
        raise DataError(f"The run in {config.out} has no completed epoch to save.")
    model = build_resnet18(config.input_size, config.base_filters)
    load_weights_file(model, checkpoint / BEST_WEIGHTS)
    slice_scores = predict(predictor(model), SliceBatches(validation_set, config.batch_size, shuffle=False))
    patients = validation_set.pool(slice_scores, config.aggregation)[:, 0]
    truth = validation_set.volume_labels
    report = binary_report(
        truth, patients, threshold=ThresholdRule.parse("f1"), resamples=config.bootstrap, seed=config.seed
    )
    grades = ", ".join(config.positive_grades)
    card = CTModelCard(
        name=config.name,
        version=str(config.version),
        trained=True,
        input_size=config.input_size,
        base_filters=config.base_filters,
        window=config.window,
        aggregation=config.aggregation,
        threshold=card_threshold(report["threshold"]),
        positive_grades=config.positive_grades,
        training_data=(
            f"MosMedData-layout volumes in {config.data}: positive = {grades}, every slice labelled with its "
            f"volume's grade; {len(state['data']['train_volumes'])} training patients. "
            f"Code: {describe_code(code_version())}."
        ),
        validation={
            "patients": len(truth),
            "aggregation": config.aggregation,
            "best_epoch": state["best"],
            **{
                key: report[key]
                for key in ("positives", "negatives", "auroc", "auroc_ci95", "threshold_method")
            },
            **{key: report[key] for key in ("accuracy", "precision", "recall", "specificity", "f1", "ci95")},
            "confusion_matrix": report["confusion_matrix"],
        },
    )
    out = Path(config.out)
    written = save_weights_directory(model, out, card)
    patient_scores = [
        {"patient": volume.patient, "grade": volume.grade, "label": volume.label, "probability": float(score)}
        for volume, score in zip(validation_set.volumes, patients, strict=True)
    ]
    atomic_write_text(
        out / VALIDATION_RECORD, json.dumps({"report": report, "patients": patient_scores}, indent=2) + "\n"
    )
    record = {
        "card": written.to_dict(),
        "config": config.to_dict(),
        **{k: state[k] for k in ("data", "best", "history")},
    }
    atomic_write_text(out / TRAINING_RECORD, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    say(
        f"Saved {out} ({written.name} {written.version}): validation patient AUROC {report['auroc']:.4f} at "
        f"epoch {state['best']['epoch']}; {describe_operating_point(report)}."
    )
    return written


def _describe(volumes: list[Volume]) -> str:
    positives = sum(volume.label for volume in volumes)
    return f"{len(volumes)} ({positives} positive)"
