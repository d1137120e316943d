"""DenseNet121's set-up for training: its initial weights and which dense blocks train.

These are the choices that depend on whether the backbone starts from ImageNet: a
pretrained backbone is adapted gently (head first, then the last dense blocks, batch
normalisation frozen), a random one must train everything. How ImageNet weights are
mapped onto our input is ``ml.classifier.training.initialisation``'s job; this module decides
whether to use them and records what was done for the card. Freezing the layers is the
shared ``ml.training.backbone.train_from``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras

from ml.cards.files import sha256_file
from ml.classifier.network import LOGITS_LAYER
from ml.classifier.training.config import TrainingConfig
from ml.classifier.training.initialisation import default_imagenet_path, load_imagenet_backbone
from ml.errors import DataError
from ml.images.preprocessing import PreprocessingSpec
from ml.training.backbone import train_from
from ml.training.monitoring import say


def initialise(model: keras.Model, config: TrainingConfig, spec: PreprocessingSpec) -> dict[str, Any]:
    """Load ImageNet weights when asked for or found locally; describe what was done."""
    choice = config.imagenet_weights
    path = default_imagenet_path() if choice == "auto" else None if choice == "none" else Path(choice)
    if path is None or (choice == "auto" and not path.is_file()):
        reason = "disabled" if choice == "none" else f"no ImageNet weights at {path}"
        say(f"Initialisation: random ({reason}).")
        return {"kind": "random", "description": f"random ({reason})"}
    if not path.is_file():
        raise DataError(f"The ImageNet weights file {path} does not exist.")
    try:
        layers = load_imagenet_backbone(model, path, spec)
    except ValueError as error:
        raise DataError(str(error)) from error
    digest = sha256_file(path)
    say(f"Initialisation: ImageNet DenseNet121 weights from {path} ({layers} layers).")
    return {
        "kind": "imagenet",
        "path": str(path),
        "sha256": digest,
        "description": f"ImageNet DenseNet121 ({path.name}, sha256 {digest[:16]})",
    }


def set_trainable(model: keras.Model, unfreeze: str | None, *, train_batchnorm: bool) -> int:
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
    return train_from(model, start, head=(LOGITS_LAYER,), train_batchnorm=train_batchnorm)


def describe_unfrozen(unfreeze: str | None) -> str:
    """``set_trainable``'s choice in words, for the stage's progress line."""
    if unfreeze is None:
        return "head only, backbone frozen"
    if unfreeze == "all":
        return "all layers"
    return f"last {unfreeze} dense block(s) and head"
