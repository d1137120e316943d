"""The training loop every trainer shares (classifier, screener, segmentation, CT).

A run is a list of stages (a head on a frozen backbone, then fine-tuning; or one stage). Each stage
runs unless its checkpoint says it finished or stopped early, resumes from that checkpoint, reduces
the learning rate when the validation score plateaus, stops early when it stops improving, and is
checkpointed after every epoch (``ml.training.checkpoints``). What differs between trainers — the
data, the loss, the validation score — is handed in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import keras

from ml.training.checkpoints import Checkpointer, restore_stage, write_state
from ml.training.monitoring import MONITOR, say


@dataclass(frozen=True)
class Stage:
    """One stage of a run: its checkpoint key ("head", "finetune", ...), length, learning rate, layers.

    ``set_trainable`` freezes the layers that stay fixed in this stage and returns the
    number of trainable weights; ``unfrozen`` says which train, for the progress line.
    """

    name: str
    epochs: int
    learning_rate: float
    unfrozen: str
    set_trainable: Callable[[], int]


class LoopSettings(Protocol):
    """What the loop reads of a run's settings: the plateau and early-stopping rules."""

    lr_factor: float
    lr_patience: int
    early_stopping_patience: int


@dataclass(frozen=True)
class StagedData:
    """What a stage fits on and how it is judged.

    ``train`` is anything ``keras.Model.fit`` takes that shuffles itself (a ``tf.data`` pipeline or
    a ``keras.utils.PyDataset``); ``validation`` makes the callback (one per stage) that adds
    ``monitor`` to the logs and records each label's score, kept under ``per_label_key``.
    """

    train: Any
    train_size: int
    validation: Callable[[], keras.callbacks.Callback]
    monitor: str = MONITOR
    per_label_key: str = "val_auroc"


def fit_stages(
    model: keras.Model,
    trainable: keras.Model,
    stages: Sequence[Stage],
    settings: LoopSettings,
    data: StagedData,
    *,
    compile_stage: Callable[[Stage], None],
    optimizer: str,
    state: dict[str, Any],
    checkpoint: Path,
    mixed: bool,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = 2,
) -> None:
    """Run the stages not finished yet, each from where its checkpoint left it.

    ``trainable`` shares ``model``'s layers and is the model compiled and fitted (it ends where the
    loss reads, at the logits); ``model`` stays uncompiled, so that its checkpointed weights files
    hold the layers only. ``compile_stage`` compiles ``trainable`` for a stage (optimizer at the
    stage's learning rate, loss); ``optimizer`` names it in the progress line.
    """
    for number, stage in enumerate(stages, start=1):
        progress = state["stages"][stage.name]
        if progress["stopped_early"] or progress["epochs_done"] >= stage.epochs:
            continue
        count = stage.set_trainable()
        say(
            f"Stage {number}/{len(stages)} ({stage.name}): {stage.unfrozen}, "
            f"{count:,} trainable weights, epochs {progress['epochs_done'] + 1}-{stage.epochs}, "
            f"{optimizer} at {stage.learning_rate:g}{', mixed precision' if mixed else ''}."
        )
        compile_stage(stage)
        restore_stage(model, trainable, checkpoint, progress)
        validation = data.validation()
        plateau = keras.callbacks.ReduceLROnPlateau(
            monitor=data.monitor,
            mode="max",
            factor=settings.lr_factor,
            patience=settings.lr_patience,
            verbose=1,
        )
        stopping = keras.callbacks.EarlyStopping(
            monitor=data.monitor, mode="max", patience=settings.early_stopping_patience, verbose=1
        )
        saver = Checkpointer(
            stage.name,
            model,
            state,
            checkpoint,
            validation,
            plateau,
            stopping,
            data.train_size,
            monitor=data.monitor,
            per_label_key=data.per_label_key,
        )
        trainable.fit(
            data.train,
            epochs=stage.epochs,
            initial_epoch=progress["epochs_done"],
            callbacks=[validation, plateau, stopping, saver, *extra_callbacks],
            verbose=verbose,
            # The data shuffles itself; Keras cannot shuffle a tf.data.Dataset.
            shuffle=False,
        )
        if stopping.stopped_epoch > 0:
            progress["stopped_early"] = True
            write_state(checkpoint, state)
