"""The end of a run: the best epoch's weights as a weights directory the service loads as it is.

The best epoch is reloaded in float32 (whatever precision it trained in), scored on the
validation set, and its thresholds are chosen there, never on test data. The card carries
the validation figures in the card schema's ``classifier_validation`` (and the API types);
the full report goes to ``OUT/validation/`` and the record of the run, with every epoch's
history, to ``OUT/training.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ml.classifier.card import ModelCard
from ml.classifier.network import build_densenet121
from ml.classifier.registry import MODEL_NAME
from ml.classifier.training.config import TrainingConfig
from ml.errors import DataError
from ml.evaluation.metrics import ThresholdRule
from ml.evaluation.report import evaluate_findings, write_evaluation
from ml.images.preprocessing import PreprocessingSpec
from ml.labels import CHESTXRAY14_LABELS
from ml.training.checkpoints import BEST_WEIGHTS, atomic_write_text
from ml.training.chestxray14 import EIGHT_CLASS_LABELS
from ml.training.datasets import TrainingData
from ml.training.monitoring import say
from ml.training.pipeline import predict_images
from ml.training.provenance import code_version, describe_code
from ml.training.runs import card_threshold
from ml.weights.directory import load_weights_file, save_weights_directory

TRAINING_RECORD = "training.json"
VALIDATION_DIR = "validation"


def save_best(
    config: TrainingConfig,
    data: TrainingData,
    spec: PreprocessingSpec,
    state: dict[str, Any],
    checkpoint: Path,
) -> ModelCard:
    """Reload the best epoch in float32, choose thresholds on validation, write card and reports.

    Returns the card as saved (with the weights' sha256).
    """
    if state["best"] is None:
        raise DataError(f"The run in {config.out} has no completed epoch to save.")
    labels = data.train.label_names
    model = build_densenet121(len(labels), config.channels, config.input_size)
    load_weights_file(model, checkpoint / BEST_WEIGHTS)
    validation = data.validation
    probabilities = predict_images(
        model, validation, spec=spec, channels=config.channels, batch_size=config.batch_size
    )
    truth = validation.labels.astype(np.uint8)
    rule = ThresholdRule.parse(config.threshold)
    result = evaluate_findings(
        truth, probabilities, labels, thresholds=rule, resamples=config.bootstrap, seed=config.seed
    )
    thresholds = {label: card_threshold(result["findings"][label]["threshold"]) for label in labels}
    code = code_version()
    initialisation = state["initialisation"]
    training_data = (
        f"{data.description}. Initialisation: {initialisation['description']}. Code: {describe_code(code)}."
    )
    card = ModelCard(
        name=config.name or default_name(labels),
        version=config.version or "trained",
        labels=labels,
        input_size=config.input_size,
        input_channels=config.channels,
        preprocessing=spec.to_dict(),
        thresholds=thresholds,
        weights_sha256=None,
        trained=True,
        training_data=training_data,
        validation=card_validation(result, data, state, rule),
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
    atomic_write_text(out / TRAINING_RECORD, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    say(
        f"Saved {out} ({written.name} {written.version}): validation mean AUROC "
        f"{result['mean_auroc']:.4f} at {state['best']['stage']} epoch {state['best']['epoch']}."
    )
    return written


def card_validation(
    result: dict[str, Any], data: TrainingData, state: dict[str, Any], rule: ThresholdRule
) -> dict[str, Any]:
    """The validation figures the card carries (the full report is in ``validation/``).

    The keys are those of the card schema's ``classifier_validation``, checked when a card is loaded.
    """
    findings = {}
    for label, entry in result["findings"].items():
        findings[label] = {
            "positives": entry["positives"],
            "negatives": entry["negatives"],
            "auroc": entry["auroc"],
            "auroc_ci95": entry["auroc_ci95"],
            # A label validation cannot set a threshold for keeps the card's fallback, and says so.
            "threshold": card_threshold(entry["threshold"]),
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


def default_name(labels: tuple[str, ...]) -> str:
    """The card's name when the run was given none: the registry's for the label sets it knows."""
    if labels == EIGHT_CLASS_LABELS:
        return f"{MODEL_NAME}-8class"
    return MODEL_NAME if labels == CHESTXRAY14_LABELS else "densenet121-multilabel"
