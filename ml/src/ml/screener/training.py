"""Train the screener in two stages and write a weights directory with its own card.

Stage 1 ("head") trains the logit on a frozen backbone; stage 2 ("finetune") unfreezes
the top block(s) (or everything, ``unfreeze="all"``) at a lower learning rate. The loop
is the one the classifier runs too (``ml.training.runs.run_stages``): augmentation, the learning-rate
cut on a validation-AUROC plateau, early stopping on validation AUROC, a checkpoint every
epoch under ``OUT/checkpoint/`` that ``resume`` continues, mixed precision on a GPU. At
the end the best epoch is reloaded in float32, scored on validation, and the card's
threshold is the highest that reaches the target sensitivity there.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ml.cards.files import CARD_FILENAME
from ml.errors import DataError
from ml.images.preprocessing import PreprocessingSpec
from ml.screener.architectures import build_screener, describe_stage, logits_model, set_stage_trainable
from ml.screener.card import ScreenerCard, default_screener_name, screener_preprocessing
from ml.screener.config import ScreenerConfig
from ml.screener.data import load_screener_data
from ml.screener.evaluation import screener_figures
from ml.training.checkpoints import BEST_WEIGHTS, epochs_done
from ml.training.config import CHECKPOINT_DIR, atomic_write_text, check_output
from ml.training.datasets import TrainingData
from ml.training.losses import ClassBalancedBinaryCrossentropy, class_balance_weights
from ml.training.monitoring import say
from ml.training.pipeline import predict_images
from ml.training.provenance import code_version, describe_code
from ml.training.runs import open_run, run_stages, training_precision, wants_mixed_precision
from ml.training.stages import Stage
from ml.weights.directory import load_weights_file, write_weights_file

TRAINING_RECORD = "training.json"
INITIALISATION = "random (keras.applications weights=None; no ImageNet weights are downloaded)"


@dataclass
class ScreenerTrainingResult:
    """What a finished run wrote: the card (as saved), its folder and the epoch history."""

    card: ScreenerCard
    directory: Path
    history: list[dict[str, Any]] = field(default_factory=list)


def train_screener(
    config: ScreenerConfig,
    *,
    resume: bool = False,
    data: TrainingData | None = None,
    verbose: int | None = None,
) -> ScreenerTrainingResult:
    """Run (or, with ``resume``, continue) a screener run; return the card written in ``config.out``.

    ``data`` is ``load_screener_data(config.data_options())`` if the caller has it already.
    Raises DataError for data problems and ValueError for bad settings.
    """
    config.validate()
    out = Path(config.out)
    checkpoint = out / CHECKPOINT_DIR
    check_output(out, resume=resume)
    if data is None:
        data = load_screener_data(config.data_options())
    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2
    state = open_run(config, data, resume=resume, default_name=default_screener_name(config.architecture))
    spec = PreprocessingSpec.from_dict(screener_preprocessing(config.size, config.channels))
    mixed = wants_mixed_precision(config.mixed_precision)
    with training_precision(mixed):
        # Resumed runs draw fresh shuffles and augmentations rather than replaying epoch 1's.
        keras.utils.set_random_seed(config.seed + epochs_done(state))
        model = build_screener(config.architecture, config.size, config.channels)
        stages = [
            Stage(
                name,
                epochs,
                learning_rate,
                describe_stage(unfreeze),
                partial(set_stage_trainable, model, config.architecture, unfreeze),
            )
            for name, epochs, learning_rate, unfreeze in (
                ("head", config.head_epochs, config.learning_rate, None),
                ("finetune", config.finetune_epochs, config.finetune_learning_rate, config.unfreeze),
            )
        ]
        loss = ClassBalancedBinaryCrossentropy(*class_balance_weights(data.train.labels))
        run_stages(
            model,
            logits_model(model),
            loss,
            stages,
            config,
            data,
            spec,
            state,
            checkpoint,
            mixed,
            verbose=verbose,
        )
    card = save_best_screener(config, data, spec, state, checkpoint)
    return ScreenerTrainingResult(card=card, directory=out, history=list(state["history"]))


def save_best_screener(
    config: ScreenerConfig,
    data: TrainingData,
    spec: PreprocessingSpec,
    state: dict[str, Any],
    checkpoint: Path,
) -> ScreenerCard:
    """Reload the best epoch in float32, set the threshold on validation, write weights, card and record."""
    if state["best"] is None:
        raise DataError(f"The run in {config.out} has no completed epoch to save.")
    model = build_screener(config.architecture, config.size, config.channels)
    load_weights_file(model, checkpoint / BEST_WEIGHTS)
    validation = data.validation
    probabilities = predict_images(
        model, validation, spec=spec, channels=config.channels, batch_size=config.batch_size
    )[:, 0]
    truth = validation.labels[:, 0].astype(np.uint8)
    figures = screener_figures(
        truth,
        probabilities,
        target_sensitivity=config.target_sensitivity,
        resamples=config.bootstrap,
        seed=config.seed,
    )
    point = figures["at_target_sensitivity"]
    code = code_version()
    out = Path(config.out)
    digest = write_weights_file(model, out)
    card = ScreenerCard(
        name=config.name or default_screener_name(config.architecture),
        version=config.version or "trained",
        architecture=config.architecture,
        input_size=config.size,
        input_channels=config.channels,
        preprocessing=spec.to_dict(),
        threshold=float(min(1.0, max(0.0, point["threshold"]))),
        target_sensitivity=config.target_sensitivity,
        trained=True,
        weights_sha256=digest,
        training_data=f"{data.description}. Initialisation: {INITIALISATION}. Code: {describe_code(code)}.",
        validation={
            "split": data.record["split"],
            "images": figures["images"],
            "abnormal": figures["abnormal"],
            "patients": len(set(validation.groups)),
            "auroc": figures["auroc"],
            "auroc_ci95": figures["auroc_ci95"],
            "threshold_method": f"sensitivity:{config.target_sensitivity:g}",
            "sensitivity": point["sensitivity"],
            "sensitivity_ci95": point["sensitivity_ci95"],
            "specificity": point["specificity"],
            "specificity_ci95": point["specificity_ci95"],
            "best_epoch": state["best"],
        },
    )
    card.save(out / CARD_FILENAME)
    record = {
        "card": card.to_dict(),
        "config": config.to_dict(),
        "data": data.record,
        "code": code,
        "best": state["best"],
        "validation": figures,
        "stages": {
            name: {key: value for key, value in stage.items() if key != "callbacks"}
            for name, stage in state["stages"].items()
        },
        "history": state["history"],
    }
    atomic_write_text(out / TRAINING_RECORD, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    say(
        f"Saved {out} ({card.name} {card.version}): validation AUROC {figures['auroc']:.4f}, threshold "
        f"{card.threshold:.4f} for sensitivity {config.target_sensitivity:g} "
        f"(best: {state['best']['stage']} epoch {state['best']['epoch']})."
    )
    return card
