"""Import published DenseNet121 checkpoints into this package's weights directories.

Two layouts are understood:

- ``torchxrayvision``: a whole pickled ``torchxrayvision.models.DenseNet`` (one input
  channel, greyscale scaled to [-1024, 1024], 18 outputs of which the ones its training
  data lacked are unnamed, and per-output operating thresholds ``op_threshs``), e.g.
  ``nih-densenet121-d121-tw-lr001-rot45-tr15-sc15-seed0-best.pt``;
- ``chexnet``: a CheXNet reproduction's ``model.pth.tar``, a dict whose ``state_dict`` has
  DataParallel's ``module.`` prefixes and the old torchvision names (``norm.1``), three
  ImageNet-normalised input channels and 14 outputs.

The checkpoint is read by ``ml.weights.torch_checkpoint`` (no PyTorch, nothing in it is run), its
arrays are renamed and transposed into Keras layout and checked against DenseNet121
before anything is written. Outputs the weights never learnt (unnamed, or with no
operating threshold) are dropped, so the card lists only findings the model can report;
``source.label_outputs`` in the card records which raw output each label came from.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ml.classifier.architecture import (
    FEATURE_CHANNELS,
    HEAD_LAYER,
    KERAS_BN_EPSILON,
    DenseNetWeights,
    check_weights,
    densenet121_layers,
)
from ml.classifier.card import ModelCard
from ml.classifier.registry import sha256_file
from ml.errors import WeightsError
from ml.images.preprocessing import IMAGENET_MEAN, IMAGENET_STD, default_preprocessing
from ml.labels import CHESTXRAY14_LABELS
from ml.weights.torch_checkpoint import PickledObject, module_state_dict, read_torch_checkpoint

FORMATS = ("torchxrayvision", "chexnet")
INPUT_SIZE = 224
TORCH_BN_EPSILON = 1e-5
DEFAULT_THRESHOLD = 0.5

# torchxrayvision's published checkpoints predate the library storing labels and
# thresholds in the file, so for these the library's own tables (models.py, model_urls)
# say what each of the 18 outputs is and where its operating point lies (NaN: untrained).
PUBLISHED_TORCHXRAYVISION: dict[str, dict[str, Any]] = {
    "nih-densenet121-d121-tw-lr001-rot45-tr15-sc15-seed0-best.pt": {
        "name": "torchxrayvision-densenet121-res224-nih",
        "training_data": "NIH ChestX-ray14 (torchxrayvision densenet121-res224-nih, Cohen et al.)",
        "outputs": [
            "Atelectasis",
            "Consolidation",
            "Infiltration",
            "Pneumothorax",
            "Edema",
            "Emphysema",
            "Fibrosis",
            "Effusion",
            "Pneumonia",
            "Pleural_Thickening",
            "Cardiomegaly",
            "Nodule",
            "Mass",
            "Hernia",
            "",
            "",
            "",
            "",
        ],
        "op_threshs": [
            0.039117552,
            0.0034529066,
            0.11396341,
            0.0057298196,
            0.00045666535,
            0.0018880932,
            0.012037827,
            0.038744126,
            0.0037213727,
            0.014730946,
            0.016149804,
            0.054241467,
            0.037198864,
            0.0004403434,
            math.nan,
            math.nan,
            math.nan,
            math.nan,
        ],
    },
}
# The class order of the CheXNet reproductions (arnoweng/CheXNet and its descendants).
CHEXNET_OUTPUTS = (
    "Atelectasis",
    "Cardiomegaly",
    "Effusion",
    "Infiltration",
    "Mass",
    "Nodule",
    "Pneumonia",
    "Pneumothorax",
    "Consolidation",
    "Edema",
    "Emphysema",
    "Fibrosis",
    "Pleural_Thickening",
    "Hernia",
)
# Other spellings of ChestX-ray14 findings met in published label lists.
LABEL_ALIASES = {
    "Pleural Thickening": "Pleural_Thickening",
    "Pleural Effusion": "Effusion",
    "Pleural_Effusion": "Effusion",
    "Infiltrate": "Infiltration",
}
_BN_NAMES = {
    "weight": "gamma",
    "bias": "beta",
    "running_mean": "moving_mean",
    "running_var": "moving_variance",
}


@dataclass(frozen=True)
class ImportedCheckpoint:
    """A checkpoint's weights in Keras layout with the card fields that describe them."""

    weights: DenseNetWeights
    input_channels: int
    labels: tuple[str, ...]
    thresholds: dict[str, float]
    preprocessing: dict[str, Any]
    name: str
    version: str
    training_data: str | None
    source: dict[str, Any]

    def card(self) -> ModelCard:
        return ModelCard(
            name=self.name,
            version=self.version,
            labels=self.labels,
            input_size=INPUT_SIZE,
            input_channels=self.input_channels,
            preprocessing=self.preprocessing,
            thresholds=dict(self.thresholds),
            weights_sha256=None,
            trained=True,
            training_data=self.training_data,
            validation=None,
            source=self.source,
        )


def read_checkpoint(
    path: str | os.PathLike[str],
    checkpoint_format: str,
    *,
    outputs: Sequence[str] | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> ImportedCheckpoint:
    """Read and convert a checkpoint without writing anything (and without TensorFlow).

    ``outputs`` names the raw outputs in order ("" for one the weights never learnt) when
    the checkpoint does not say; ``thresholds`` sets operating thresholds by label.
    """
    if checkpoint_format not in FORMATS:
        raise ValueError(
            f"The checkpoint format must be one of {', '.join(FORMATS)}, not {checkpoint_format!r}."
        )
    path = Path(path)
    digest = sha256_file(path) if path.is_file() else None
    content = read_torch_checkpoint(path)
    state, attributes = _state_and_attributes(content, path)
    state = _normalised_keys(state)
    stored_thresholds = state.pop("op_threshs", None)
    if stored_thresholds is None and attributes.get("op_threshs") is not None:
        stored_thresholds = attributes["op_threshs"]

    backbone, head_weight, head_bias, input_channels = _densenet_arrays(state, path)
    expected_channels = 1 if checkpoint_format == "torchxrayvision" else 3
    if input_channels != expected_channels:
        raise WeightsError(
            f"{path}: its first convolution reads {input_channels} channel(s), but a {checkpoint_format} "
            f"checkpoint has {expected_channels}; is the --format right?"
        )
    published = PUBLISHED_TORCHXRAYVISION.get(path.name, {}) if checkpoint_format == "torchxrayvision" else {}
    raw_outputs, outputs_from = _raw_outputs(
        outputs, attributes, published, checkpoint_format, len(head_bias), path
    )
    if published and raw_outputs != published["outputs"]:
        # The published thresholds belong to the published output order, and to nothing else.
        published = {key: value for key, value in published.items() if key != "op_threshs"}
    op_threshs, thresholds_from = _operating_thresholds(stored_thresholds, published, len(head_bias), path)

    kept: list[tuple[str, int]] = []
    for index, raw in enumerate(raw_outputs):
        label = LABEL_ALIASES.get(raw.strip(), raw.strip())
        learnt = op_threshs is None or math.isfinite(op_threshs[index])
        if label and learnt:
            kept.append((label, index))
    if not kept:
        raise WeightsError(f"{path}: none of its {len(raw_outputs)} outputs is a named, trained finding.")
    repeated = sorted({label for label, _ in kept if [name for name, _ in kept].count(label) > 1})
    if repeated:
        raise WeightsError(f"{path}: several outputs are named {', '.join(repeated)}.")
    rank = {label: position for position, label in enumerate(CHESTXRAY14_LABELS)}
    kept.sort(key=lambda item: (rank.get(item[0], len(rank)), item[1]))
    labels = tuple(label for label, _ in kept)
    indices = [index for _, index in kept]

    chosen = {}
    for label, index in kept:
        value = op_threshs[index] if op_threshs is not None else DEFAULT_THRESHOLD
        chosen[label] = float(value)
    if thresholds:
        unknown = sorted(set(thresholds) - set(labels))
        if unknown:
            raise WeightsError(
                f"Thresholds were given for label(s) the checkpoint lacks: {', '.join(unknown)}."
            )
        chosen.update({label: float(value) for label, value in thresholds.items()})
        thresholds_from = f"{thresholds_from}, overridden for {', '.join(sorted(thresholds))}"
    for label, value in chosen.items():
        if not 0.0 < value < 1.0:
            raise WeightsError(f"The operating threshold of {label} must lie in (0, 1), not {value}.")

    backbone[HEAD_LAYER] = {
        "kernel": np.ascontiguousarray(head_weight[indices].T),
        "bias": np.ascontiguousarray(head_bias[indices]),
    }
    weights = check_weights(backbone, input_channels, len(labels), source=str(path))

    if checkpoint_format == "torchxrayvision":
        preprocessing = default_preprocessing(INPUT_SIZE)
        default_name = published.get("name") or f"torchxrayvision-{_slug(path.name)}"
    else:
        preprocessing = {
            "colour": "rgb",
            "crop": "centre square",
            "resize": INPUT_SIZE,
            "resample": "bilinear",
            "scale": [0.0, 1.0],
            "mean": list(IMAGENET_MEAN),
            "std": list(IMAGENET_STD),
        }
        default_name = "chexnet-densenet121"
    training_data = published.get("training_data") or (
        "NIH ChestX-ray14 (a CheXNet reproduction's checkpoint)" if checkpoint_format == "chexnet" else None
    )
    source = {
        "format": checkpoint_format,
        "file": path.name,
        "sha256": digest,
        "outputs": list(raw_outputs),
        "outputs_from": outputs_from,
        "label_outputs": {label: index for label, index in kept},
        "thresholds_from": thresholds_from,
    }
    return ImportedCheckpoint(
        weights=weights,
        input_channels=input_channels,
        labels=labels,
        thresholds=chosen,
        preprocessing=preprocessing,
        name=default_name,
        version=f"imported-{digest[:12]}" if digest else "imported",
        training_data=training_data,
        source=source,
    )


def import_checkpoint(
    path: str | os.PathLike[str],
    checkpoint_format: str,
    directory: str | os.PathLike[str],
    *,
    name: str | None = None,
    version: str | None = None,
    outputs: Sequence[str] | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> ModelCard:
    """Convert a checkpoint into a weights directory (``card.json`` + ``model.weights.h5``).

    Everything is read and checked before the directory is touched; it must be new or empty.
    Returns the card written. Imports TensorFlow (the Keras weights file is written by Keras).
    """
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise WeightsError(f"{directory} already exists and is not an empty directory; choose a new one.")
    imported = read_checkpoint(path, checkpoint_format, outputs=outputs, thresholds=thresholds)
    card = imported.card()
    card = dataclasses.replace(card, name=name or card.name, version=version or card.version)
    # Validating through from_dict catches anything the card format refuses before writing.
    card = ModelCard.from_dict(card.to_dict())

    from ml.classifier.network import assign_densenet_weights, build_densenet121
    from ml.weights.directory import save_weights_directory

    model = build_densenet121(len(card.labels), card.input_channels, card.input_size)
    assign_densenet_weights(model, imported.weights)
    return save_weights_directory(model, directory, card)


def read_thresholds_file(path: str | os.PathLike[str]) -> dict[str, float]:
    """A JSON object of operating thresholds by label, e.g. chosen by the evaluation pipeline."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WeightsError(f"The thresholds file {path} cannot be read: {error}.") from error
    if isinstance(data, dict) and isinstance(data.get("thresholds"), dict):
        data = data["thresholds"]
    if not isinstance(data, dict) or not all(
        isinstance(value, int | float) and not isinstance(value, bool) for value in data.values()
    ):
        raise WeightsError(f"The thresholds file {path} must hold a JSON object of numbers by label.")
    return {str(label): float(value) for label, value in data.items()}


def _state_and_attributes(content: Any, path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The flat state dict of a whole pickled module, a training checkpoint or a bare state dict."""
    if isinstance(content, PickledObject):
        return module_state_dict(content), content.attributes
    if isinstance(content, Mapping):
        for key in ("state_dict", "model_state_dict", "model"):
            inner = content.get(key)
            if isinstance(inner, PickledObject):
                return module_state_dict(inner), inner.attributes
            if isinstance(inner, Mapping):
                return _tensor_dict(inner, path), {}
        return _tensor_dict(content, path), {}
    raise WeightsError(
        f"{path} holds a {type(content).__name__}, not a PyTorch module or a state dict of DenseNet121."
    )


def _tensor_dict(mapping: Mapping[Any, Any], path: Path) -> dict[str, np.ndarray]:
    tensors = {str(key): value for key, value in mapping.items() if isinstance(value, np.ndarray)}
    if not tensors:
        raise WeightsError(f"{path} holds no tensors: it is not a DenseNet121 checkpoint.")
    return tensors


def _normalised_keys(state: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """torchvision's current key names, without DataParallel's or CheXNet's prefixes."""
    normalised: dict[str, np.ndarray] = {}
    for key, value in state.items():
        name = key
        for prefix in ("module.", "densenet121."):
            if name.startswith(prefix):
                name = name[len(prefix) :]
        # torchvision before 0.3 named the dense layers' parts "norm.1", "conv.2", ...
        name = re.sub(r"\.(norm|relu|conv)\.(\d)\.", r".\1\2.", name)
        # CheXNet's head is Sequential(Linear, Sigmoid).
        name = name.replace("classifier.0.", "classifier.")
        if name.endswith("num_batches_tracked"):
            continue
        normalised[name] = value
    return normalised


def _torch_names() -> list[tuple[str, str, str]]:
    """(torch module path, Keras layer, kind) for every layer of DenseNet121 but the head."""
    names = [("features.conv0", "conv1_conv", "conv"), ("features.norm0", "conv1_bn", "bn")]
    for layer in densenet121_layers(1, 1):
        match = re.fullmatch(r"conv(\d)_block(\d+)_(\d)_(bn|conv)", layer.name)
        if match:
            block, index, part, kind = match.groups()
            torch_part = {"0_bn": "norm1", "1_conv": "conv1", "1_bn": "norm2", "2_conv": "conv2"}[
                f"{part}_{kind}"
            ]
            names.append(
                (f"features.denseblock{int(block) - 1}.denselayer{index}.{torch_part}", layer.name, kind)
            )
        match = re.fullmatch(r"pool(\d)_(bn|conv)", layer.name)
        if match:
            block, kind = match.groups()
            torch_part = "norm" if kind == "bn" else "conv"
            names.append((f"features.transition{int(block) - 1}.{torch_part}", layer.name, kind))
    names.append(("features.norm5", "bn", "bn"))
    return names


def _densenet_arrays(
    state: dict[str, np.ndarray], path: Path
) -> tuple[DenseNetWeights, np.ndarray, np.ndarray, int]:
    """The backbone in Keras layout, the head's (weight, bias) and the input channels."""
    first = state.get("features.conv0.weight")
    if first is None:
        raise WeightsError(f"{path} lacks features.conv0.weight: it is not a DenseNet121 checkpoint.")
    if first.ndim != 4 or first.shape[0] != 64 or first.shape[2:] != (7, 7):
        raise WeightsError(
            f"{path}: features.conv0.weight has shape {first.shape}, not DenseNet121's (64, channels, 7, 7)."
        )
    input_channels = int(first.shape[1])
    expected = {layer.name: layer for layer in densenet121_layers(input_channels, 1)}
    used: set[str] = set()
    weights: DenseNetWeights = {}

    def take(key: str, shape: tuple[int, ...]) -> np.ndarray:
        if key not in state:
            raise WeightsError(f"{path} lacks {key}: it is not a complete DenseNet121 checkpoint.")
        array = state[key]
        if tuple(array.shape) != shape:
            raise WeightsError(
                f"{path}: {key} has shape {tuple(array.shape)}, but DenseNet121 needs {shape}."
            )
        if not np.issubdtype(array.dtype, np.floating):
            raise WeightsError(f"{path}: {key} holds {array.dtype} values, not floats.")
        used.add(key)
        return array.astype(np.float64)

    for torch_name, keras_name, kind in _torch_names():
        layer = expected[keras_name]
        if kind == "conv":
            height, width, inputs, outputs = layer.shapes["kernel"]
            kernel = take(f"{torch_name}.weight", (outputs, inputs, height, width))
            weights[keras_name] = {"kernel": kernel.transpose(2, 3, 1, 0).astype(np.float32)}
        else:
            channels = layer.shapes["gamma"][0]
            arrays = {_BN_NAMES[part]: take(f"{torch_name}.{part}", (channels,)) for part in _BN_NAMES}
            # PyTorch adds 1e-5 to the variance, Keras's DenseNet 1.001e-5: moving the
            # difference into the stored variance makes the two compute the same thing.
            arrays["moving_variance"] = arrays["moving_variance"] + (TORCH_BN_EPSILON - KERAS_BN_EPSILON)
            weights[keras_name] = {name: array.astype(np.float32) for name, array in arrays.items()}

    head_weight = state.get("classifier.weight")
    head_bias = state.get("classifier.bias")
    if head_weight is None or head_bias is None:
        raise WeightsError(
            f"{path} lacks classifier.weight or classifier.bias: it has no classification head."
        )
    if (
        head_weight.ndim != 2
        or head_weight.shape[1] != FEATURE_CHANNELS
        or head_bias.shape != head_weight.shape[:1]
    ):
        raise WeightsError(
            f"{path}: the classifier has shapes {head_weight.shape} and {head_bias.shape}, not DenseNet121's "
            f"(outputs, {FEATURE_CHANNELS}) and (outputs,)."
        )
    used.update({"classifier.weight", "classifier.bias"})
    unexpected = sorted(set(state) - used)
    if unexpected:
        raise WeightsError(
            f"{path} has arrays DenseNet121 lacks ({', '.join(unexpected[:3])}): is it another architecture?"
        )
    return weights, head_weight.astype(np.float32), head_bias.astype(np.float32), input_channels


def _raw_outputs(
    outputs: Sequence[str] | None,
    attributes: Mapping[str, Any],
    published: Mapping[str, Any],
    checkpoint_format: str,
    count: int,
    path: Path,
) -> tuple[list[str], str]:
    """The name of each raw output ("" for none) and where the names came from."""
    candidates: list[tuple[Any, str]] = [
        (outputs, "given on import"),
        (attributes.get("pathologies"), "checkpoint (pathologies)"),
        (attributes.get("targets"), "checkpoint (targets)"),
        (published.get("outputs"), "torchxrayvision's published table"),
    ]
    if checkpoint_format == "chexnet":
        candidates.append((list(CHEXNET_OUTPUTS), "CheXNet's published class order"))
    for names, origin in candidates:
        if names is None:
            continue
        names = list(names)
        if len(names) != count or not all(isinstance(name, str) for name in names):
            raise WeightsError(
                f"{path}: {origin} names {len(names)} outputs, but the classifier has {count}."
            )
        return names, origin
    raise WeightsError(
        f"{path} does not say what its {count} outputs are (it stores no pathologies, and it is not a "
        "published torchxrayvision file): give their names in order with --outputs."
    )


def _operating_thresholds(
    stored: Any, published: Mapping[str, Any], count: int, path: Path
) -> tuple[list[float] | None, str]:
    if stored is not None:
        values = [float(value) for value in np.asarray(stored, dtype=np.float64).ravel()]
        origin = "checkpoint (op_threshs)"
    elif published.get("op_threshs") is not None:
        values = [float(value) for value in published["op_threshs"]]
        origin = "torchxrayvision's published op_threshs"
    else:
        return None, f"default {DEFAULT_THRESHOLD}"
    if len(values) != count:
        raise WeightsError(f"{path}: {origin} has {len(values)} values for {count} outputs.")
    return values, origin


def _slug(name: str) -> str:
    stem = name.split(".")[0]
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "checkpoint"
