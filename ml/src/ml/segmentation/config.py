"""A segmentation training run's settings, readable without TensorFlow (the CLI checks them first)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml.segmentation.card import UNET_INPUT_SIZE
from ml.training.config import CHECKPOINT_DIR, STATE_FILE, check_schedule, read_state

# What a resumed run may change: how long it trains and its batch size.
RESUMABLE_SETTINGS = ("head_epochs", "finetune_epochs", "batch_size")
DEFAULT_DECODER_FILTERS = [256, 128, 64, 32, 16]


@dataclass
class SegmentationTrainingConfig:
    """Every setting of a run; stored in its checkpoint so that a resumed run uses the same ones.

    Stage 1 ("head") trains the decoder and head on a frozen encoder for ``head_epochs``;
    stage 2 ("finetune") unfreezes the encoder at ``finetune_learning_rate``: 10 + 40 = 50
    epochs by default.
    """

    data: str
    out: str
    patients_csv: str | None = None
    val_fraction: float = 0.2
    input_size: int = UNET_INPUT_SIZE
    decoder_filters: list[int] = field(default_factory=lambda: list(DEFAULT_DECODER_FILTERS))
    # EfficientNetB0's width and depth multiplied by these; (1, 1) is B0, smaller is for quick runs.
    encoder_scale: list[float] = field(default_factory=lambda: [1.0, 1.0])
    batch_size: int = 8
    head_epochs: int = 10
    finetune_epochs: int = 40
    learning_rate: float = 1e-3
    finetune_learning_rate: float = 1e-4
    lr_factor: float = 0.5
    lr_patience: int = 3
    early_stopping_patience: int = 10
    augment: bool = True
    mixed_precision: str = "auto"
    seed: int = 0
    name: str | None = None
    version: str | None = None
    bootstrap: int = 1000

    def validate(self) -> None:
        """Raise ValueError naming the first bad setting."""
        if isinstance(self.input_size, bool) or self.input_size < 32 or self.input_size % 32:
            raise ValueError(f"input_size must be a multiple of 32, at least 32, not {self.input_size!r}.")
        if len(self.decoder_filters) != 5 or any(width < 1 for width in self.decoder_filters):
            raise ValueError("decoder_filters must be five positive widths.")
        if len(self.encoder_scale) != 2 or not all(0 < value <= 1 for value in self.encoder_scale):
            raise ValueError("encoder_scale must be two multipliers in (0, 1] (width, depth).")
        check_schedule(self)
        if self.head_epochs < 0:
            raise ValueError("head_epochs must not be negative.")
        if self.head_epochs + self.finetune_epochs == 0:
            raise ValueError("Nothing to train: both stages have 0 epochs.")
        if not 0.0 < self.val_fraction < 1.0:
            raise ValueError("val_fraction must lie in (0, 1).")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentationTrainingConfig:
        known = {item.name for item in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


def resume_config(out: str | Path, **overrides: Any) -> SegmentationTrainingConfig:
    """The settings of the run checkpointed in ``out``, with ``overrides`` (e.g. more epochs)."""
    state = read_state(Path(out) / CHECKPOINT_DIR / STATE_FILE)
    unknown = set(overrides) - set(RESUMABLE_SETTINGS)
    if unknown:
        raise ValueError(
            f"A resumed run can only change {', '.join(RESUMABLE_SETTINGS)}, not {', '.join(unknown)}."
        )
    config = SegmentationTrainingConfig.from_dict(state["config"])
    return dataclasses.replace(
        config, **{key: value for key, value in overrides.items() if value is not None}
    )
