"""A training run's settings and its checkpoint state file, readable without TensorFlow."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TypeVar

from ml.errors import DataError
from ml.evaluation.metrics import ThresholdRule
from ml.training.datasets import DataOptions

CHECKPOINT_DIR = "checkpoint"
STATE_FILE = "state.json"
STATE_FORMAT = 1
UNFREEZE_CHOICES = ("auto", "1", "2", "3", "4", "all")
# What a resumed run may change: how long it trains and how it feeds the data.
RESUMABLE_SETTINGS = ("head_epochs", "finetune_epochs", "batch_size", "cache")
ConfigT = TypeVar("ConfigT")


class StoredSettings:
    """A dataclass of a run's settings as its checkpoint stores them (unknown keys are ignored)."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        known = {item.name for item in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass
class TrainingConfig(StoredSettings):
    """Every setting of a run; stored in the checkpoint so a resumed run uses the same ones."""

    data: str
    out: str
    images: str | None = None
    label_set: str | None = None
    labels: list[str] | None = None
    val_fraction: float = 0.1
    val_csv: str | None = None
    patient_column: str | None = None
    split_by_image: bool = False
    input_size: int = 224
    channels: int = 1
    batch_size: int = 32
    head_epochs: int | None = None
    finetune_epochs: int = 30
    learning_rate: float = 1e-3
    finetune_learning_rate: float = 1e-4
    optimizer: str = "adam"
    unfreeze: str = "auto"
    imagenet_weights: str = "auto"
    lr_factor: float = 0.1
    lr_patience: int = 1
    early_stopping_patience: int = 3
    threshold: str = "f1"
    augment: bool = True
    cache: str | None = None
    mixed_precision: str = "auto"
    seed: int = 0
    name: str | None = None
    version: str | None = None
    bootstrap: int = 1000

    def validate(self) -> None:
        """Raise ValueError naming the first bad setting."""
        if isinstance(self.input_size, bool) or not isinstance(self.input_size, int) or self.input_size < 32:
            raise ValueError(f"input_size must be an integer of at least 32, not {self.input_size!r}.")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, not {self.channels!r}.")
        check_schedule(self)
        if self.head_epochs is not None and self.head_epochs < 0:
            raise ValueError("head_epochs must not be negative.")
        if self.optimizer not in ("adam", "rmsprop"):
            raise ValueError(f"optimizer must be adam or rmsprop, not {self.optimizer!r}.")
        if self.unfreeze not in UNFREEZE_CHOICES:
            raise ValueError(f"unfreeze must be one of {', '.join(UNFREEZE_CHOICES)}, not {self.unfreeze!r}.")
        rule = ThresholdRule.parse(self.threshold)
        if rule.kind == "fixed" and not 0.0 <= rule.target <= 1.0:
            raise ValueError("A fixed threshold must lie in [0, 1].")

    def data_options(self) -> DataOptions:
        return DataOptions(
            data=Path(self.data),
            images=Path(self.images) if self.images else None,
            label_set=self.label_set,
            labels=tuple(self.labels) if self.labels else None,
            val_fraction=self.val_fraction,
            seed=self.seed,
            val_csv=Path(self.val_csv) if self.val_csv else None,
            patient_column=self.patient_column,
            split_by_image=self.split_by_image,
        )


def check_schedule(config: Any) -> None:
    """Check the settings every two-stage run has (this module's and the segmentation U-Net's).

    Raises ValueError naming the first bad one: batch size, bootstrap resamples, stage 2
    epochs, learning rates and their plateau and early-stopping schedule, mixed precision.
    """
    for name in ("batch_size", "bootstrap"):
        if getattr(config, name) < 1:
            raise ValueError(f"{name} must be at least 1.")
    for name in ("finetune_epochs", "lr_patience", "early_stopping_patience"):
        if getattr(config, name) < 0:
            raise ValueError(f"{name} must not be negative.")
    for name in ("learning_rate", "finetune_learning_rate"):
        if not getattr(config, name) > 0:
            raise ValueError(f"{name} must be positive.")
    if not 0.0 < config.lr_factor < 1.0:
        raise ValueError("lr_factor must lie in (0, 1).")
    if config.mixed_precision not in ("auto", "on", "off"):
        raise ValueError(f"mixed_precision must be auto, on or off, not {config.mixed_precision!r}.")


def resume_config(
    out: str | os.PathLike[str],
    from_dict: Callable[[dict[str, Any]], ConfigT] = TrainingConfig.from_dict,
    **overrides: Any,
) -> ConfigT:
    """The configuration of the run checkpointed in ``out``, with ``overrides`` (e.g. more epochs).

    ``from_dict`` reads the stored settings: ``TrainingConfig``'s, or another trainer's.
    """
    state = read_state(Path(out) / CHECKPOINT_DIR / STATE_FILE)
    config = from_dict(state["config"])
    allowed = set(RESUMABLE_SETTINGS)
    unknown = set(overrides) - allowed
    if unknown:
        raise ValueError(
            f"A resumed run can only change {', '.join(sorted(allowed))}, not {', '.join(unknown)}."
        )
    return dataclasses.replace(
        config, **{key: value for key, value in overrides.items() if value is not None}
    )


def read_state(path: Path) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise DataError(f"There is no run to resume: {path} does not exist.") from error
    except (OSError, json.JSONDecodeError) as error:
        raise DataError(f"{path} cannot be read: {error}.") from error
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise DataError(f"{path} is not a checkpoint this version can resume.")
    return state


def check_output(out: str | os.PathLike[str], *, resume: bool) -> None:
    """Refuse to start a new run over an existing one, or to resume where there is none."""
    out = Path(out)
    if resume:
        read_state(out / CHECKPOINT_DIR / STATE_FILE)
    elif out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DataError(f"{out} is not empty: pass --resume to continue its run, or choose another --out.")


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``path`` so that a reader, or a resumed run, sees the old text or the new, never half."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)
