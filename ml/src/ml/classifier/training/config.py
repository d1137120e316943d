"""The classifier's training settings (``python -m ml train``), readable without TensorFlow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ml.evaluation.metrics import ThresholdRule
from ml.training.config import StoredSettings, check_schedule
from ml.training.datasets import DataOptions

UNFREEZE_CHOICES = ("auto", "1", "2", "3", "4", "all")


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
