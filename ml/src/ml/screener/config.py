"""A screener training run's settings, stored in its checkpoint; readable without TensorFlow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ml.screener.card import (
    ARCHITECTURES,
    DEFAULT_ARCHITECTURE,
    DEFAULT_INPUT_SIZES,
    DEFAULT_TARGET_SENSITIVITY,
)
from ml.training.config import StoredSettings, check_schedule
from ml.training.datasets import DataOptions

UNFREEZE_CHOICES = ("top", "all")


@dataclass
class ScreenerConfig(StoredSettings):
    """Every setting of a screener run (the field names ``ml.training.runs.run_stages`` reads)."""

    data: str
    out: str
    images: str | None = None
    val_fraction: float = 0.1
    split_by_image: bool = False
    architecture: str = DEFAULT_ARCHITECTURE
    input_size: int | None = None
    channels: int = 1
    batch_size: int = 32
    head_epochs: int = 2
    finetune_epochs: int = 20
    learning_rate: float = 1e-3
    finetune_learning_rate: float = 1e-4
    optimizer: str = "adam"
    unfreeze: str = "top"
    lr_factor: float = 0.1
    lr_patience: int = 1
    early_stopping_patience: int = 3
    target_sensitivity: float = DEFAULT_TARGET_SENSITIVITY
    augment: bool = True
    cache: str | None = None
    mixed_precision: str = "auto"
    seed: int = 0
    name: str | None = None
    version: str | None = None
    bootstrap: int = 1000

    @property
    def size(self) -> int:
        """The input size: the one given, else the architecture's default."""
        return self.input_size if self.input_size is not None else DEFAULT_INPUT_SIZES[self.architecture]

    def validate(self) -> None:
        """Raise ValueError naming the first bad setting."""
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"architecture must be one of {', '.join(ARCHITECTURES)}, not {self.architecture!r}."
            )
        minimum = ARCHITECTURES[self.architecture]
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < minimum:
            raise ValueError(
                f"{self.architecture} needs an input size of at least {minimum}, not {self.size!r}."
            )
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, not {self.channels!r}.")
        check_schedule(self)
        if self.head_epochs < 0:
            raise ValueError("head_epochs must not be negative.")
        if self.optimizer not in ("adam", "rmsprop"):
            raise ValueError(f"optimizer must be adam or rmsprop, not {self.optimizer!r}.")
        if self.head_epochs + self.finetune_epochs == 0:
            raise ValueError("Nothing to train: both stages have 0 epochs.")
        if self.unfreeze not in UNFREEZE_CHOICES:
            raise ValueError(f"unfreeze must be one of {', '.join(UNFREEZE_CHOICES)}, not {self.unfreeze!r}.")
        if not 0.0 < self.target_sensitivity <= 1.0:
            raise ValueError(f"The target sensitivity must lie in (0, 1], not {self.target_sensitivity}.")

    def data_options(self) -> DataOptions:
        return DataOptions(
            data=Path(self.data),
            images=Path(self.images) if self.images else None,
            val_fraction=self.val_fraction,
            seed=self.seed,
            split_by_image=self.split_by_image,
        )
