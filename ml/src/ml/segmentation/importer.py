"""Import torchxrayvision's ChestX-Det PSPNet checkpoint into a segmentation weights directory.

``pspnet_chestxray_best_model_4.pth`` is DataParallel's state dict (every key prefixed
``module.``) of ptsemseg's ``pspnet`` with 14 outputs, the ChestX-Det structures in
``CHESTX_DET_TARGETS``' order, trained on 512x512 ImageNet-normalised input. It is read by
``ml.weights.torch_checkpoint`` (no PyTorch; nothing in the file is run), checked key by key
and shape by shape against ``pspnet_layout`` before anything is built, and written as
``card.json`` + ``model.weights.h5`` of the Keras PSPNet.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ml.cards.files import sha256_file
from ml.errors import WeightsError
from ml.segmentation.card import SegmentationCard, imagenet_preprocessing
from ml.segmentation.preprocessing import SKIMAGE_LINEAR_ANTIALIAS
from ml.segmentation.pspnet_layout import PUBLISHED_BLOCK_CONFIG, pspnet_layout
from ml.segmentation.structures import CHESTX_DET_TARGETS
from ml.weights.torch_checkpoint import read_torch_checkpoint

CHESTX_DET_INPUT_SIZE = 512
CHESTX_DET_NAME = "chestx-det-pspnet"
CHESTX_DET_TRAINING_DATA = (
    "ChestX-Det (Lian et al., IEEE TMI 2021; frontal NIH ChestX-ray14 radiographs with 14 anatomical "
    "structures delineated), PSPNet trained by Deepwise AILab, published by torchxrayvision"
)
DATA_PARALLEL_PREFIX = "module."


def read_pspnet_state(
    path: str | os.PathLike[str], num_classes: int, block_config: tuple[int, ...] = PUBLISHED_BLOCK_CONFIG
) -> dict[str, np.ndarray]:
    """The checkpoint's arrays by key (DataParallel's prefix removed), checked against the layout.

    Raises WeightsError naming the missing, unexpected or misshapen keys.
    """
    content = read_torch_checkpoint(path)
    if isinstance(content, Mapping) and isinstance(content.get("state_dict"), Mapping):
        content = content["state_dict"]
    if not isinstance(content, Mapping) or not content:
        raise WeightsError(f"{path} holds a {type(content).__name__}, not a PSPNet state dict.")
    state = {_without_prefix(str(key)): value for key, value in content.items()}
    expected = pspnet_layout(num_classes, block_config).state_shapes()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise WeightsError(
            f"{path} is not ChestX-Det's PSPNet: "
            + "; ".join(
                part
                for part in (
                    f"{len(missing)} key(s) missing ({', '.join(missing[:3])})" if missing else "",
                    f"{len(unexpected)} unexpected ({', '.join(unexpected[:3])})" if unexpected else "",
                )
                if part
            )
            + "."
        )
    for key, shape in expected.items():
        value = state[key]
        if not isinstance(value, np.ndarray) or tuple(value.shape) != shape:
            found = tuple(value.shape) if isinstance(value, np.ndarray) else type(value).__name__
            raise WeightsError(f"{path}: {key} has shape {found}, not {shape}.")
    return {key: value.astype(np.float32) for key, value in state.items() if key in expected}


def chestx_det_card(path: Path, digest: str, name: str | None, version: str | None) -> SegmentationCard:
    """The card of the imported ChestX-Det PSPNet (validated as any card.json is)."""
    card: dict[str, Any] = {
        "name": name or CHESTX_DET_NAME,
        "version": version or f"imported-{digest[:12]}",
        "kind": "segmentation",
        "architecture": {"name": "pspnet", "block_config": list(PUBLISHED_BLOCK_CONFIG)},
        "structures": [canonical for _, canonical in CHESTX_DET_TARGETS],
        "input_size": CHESTX_DET_INPUT_SIZE,
        # As torchxrayvision feeds it: XRayResizer's scikit-image resize, not OpenCV's area filter.
        "preprocessing": imagenet_preprocessing(SKIMAGE_LINEAR_ANTIALIAS),
        "trained": True,
        "training_data": CHESTX_DET_TRAINING_DATA,
        "source": {
            "format": "chestx-det-pspnet",
            "file": path.name,
            "sha256": digest,
            "outputs": [published for published, _ in CHESTX_DET_TARGETS],
        },
        "notes": "512x512 input as published; a dilated ResNet-101: seconds a radiograph on a CPU.",
    }
    return SegmentationCard.from_dict(card)


def import_chestx_det(
    path: str | os.PathLike[str],
    directory: str | os.PathLike[str],
    *,
    name: str | None = None,
    version: str | None = None,
) -> SegmentationCard:
    """Convert the checkpoint into a new (or empty) weights directory; return the card written."""
    path, directory = Path(path), Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise WeightsError(f"{directory} already exists and is not an empty directory; choose a new one.")
    state = read_pspnet_state(path, len(CHESTX_DET_TARGETS))
    card = chestx_det_card(path, sha256_file(path), name, version)

    from ml.segmentation.network import build_network, save_network
    from ml.segmentation.pspnet import assign_pspnet_weights

    model = build_network(card)
    assign_pspnet_weights(model, pspnet_layout(len(card.structures)), state)
    return save_network(model, directory, card)


def _without_prefix(key: str) -> str:
    return key[len(DATA_PARALLEL_PREFIX) :] if key.startswith(DATA_PARALLEL_PREFIX) else key
