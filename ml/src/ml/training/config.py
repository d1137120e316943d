"""What every trainer's settings share, and a run's checkpoint state file, readable without TensorFlow."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self, TypeVar

from ml.errors import DataError

CHECKPOINT_DIR = "checkpoint"
STATE_FILE = "state.json"
STATE_FORMAT = 1
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


def check_schedule(config: Any) -> None:
    """Check the settings every two-stage run has (the classifier's, the screener's, the U-Net's).

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
    out: str | os.PathLike[str], from_dict: Callable[[dict[str, Any]], ConfigT], **overrides: Any
) -> ConfigT:
    """The configuration of the run checkpointed in ``out``, with ``overrides`` (e.g. more epochs).

    ``from_dict`` reads the stored settings: the classifier's ``TrainingConfig.from_dict``, or
    another trainer's.
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
