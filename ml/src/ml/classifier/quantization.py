"""Quantize installed weights to int8 with NNCF, and accept the result only if it is accurate.

``python -m ml quantize --weights DIR --calibration IMAGES... --held-out IMAGES...`` builds the
float32 OpenVINO network from ``DIR``'s weights, calibrates NNCF's post-training quantization on
radiographs prepared exactly as the pipeline prepares them, and judges the int8 network on
other radiographs: it is accepted only where every probability stays within the tolerance
(0.01) of float32's. If plain int8 fails, NNCF's accuracy-aware quantization keeps the layers
whose rounding moves the probabilities most in float32 (mixed precision by layer sensitivity,
ranked on the calibration radiographs) and the result is judged again on the held-out ones;
that search is slow, so it runs only when asked for (``--mixed-precision``).

Whatever the verdict, the card records it (``inference.forms["openvino-int8"]``: accepted or
not, the largest difference, how many radiographs, the CPU and tool versions, the forward
times measured there); an accepted form's model is written beside the weights as
``model.int8.xml``/``.bin`` with their SHA-256 in the record. ``ml.classifier.forms`` decides at
load time whether a worker runs it.
"""

from __future__ import annotations

import logging
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from ml.classifier.card import ModelCard
from ml.classifier.forms import (
    INT8_FORM,
    INT8_MODEL_FILENAME,
    INT8_WEIGHTS_FILENAME,
    cpu_model_name,
    int8_instruction_set,
)
from ml.classifier.registry import CARD_FILENAME, WEIGHTS_FILENAME, describe_active_model, sha256_file

# Every probability of an accepted form lies within this of float32's, on every held-out image.
TOLERANCE = 0.01
# Forward passes per image when the two forms' speeds are compared (after one warm-up pass).
TIMING_ROUNDS = 3
_QUANTIZED_OPS = ("Convolution", "MatMul")

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    """A quantized network and how far its probabilities stray from float32's."""

    model: Any
    precision: str
    max_difference: float
    float32_layers: tuple[str, ...]


def quantize_weights_directory(
    weights_dir: str | os.PathLike[str],
    calibration: Sequence[np.ndarray],
    held_out: Sequence[np.ndarray],
    *,
    threads: int,
    tolerance: float = TOLERANCE,
    mixed_precision: bool = False,
    max_float32_layers: int | None = None,
) -> ModelCard:
    """Quantize ``weights_dir``'s network, judge it, record the verdict in its card; return the card.

    ``calibration`` and ``held_out`` are prepared network inputs (``PreparedImage.tensor``) of
    different radiographs. ``mixed_precision`` allows the accuracy-aware fallback, which keeps
    at most ``max_float32_layers`` quantized layers in float32 (default: as many as it takes).
    It is off by default because NNCF ranks every quantizer by recompiling and rerunning the
    network: 10 to 20 minutes for DenseNet121 on two cores before the first layer is restored.
    """
    if not calibration or not held_out:
        raise ValueError("Quantization needs at least one calibration and one held-out radiograph.")
    if not 0.0 < tolerance <= 1.0:
        raise ValueError(f"tolerance must lie in (0, 1], not {tolerance!r}.")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer, not {threads!r}.")
    if max_float32_layers is not None and max_float32_layers < 1:
        raise ValueError(f"max_float32_layers must be at least 1, not {max_float32_layers!r}.")
    directory = Path(weights_dir).expanduser().resolve()
    card = describe_active_model(directory)
    openvino, nncf = _import_tools()
    from ml.classifier.h5 import read_densenet_weights
    from ml.classifier.runtime_openvino import build_model

    weights = read_densenet_weights(directory / WEIGHTS_FILENAME, card.input_channels, len(card.labels))
    model = build_model(weights, card.input_channels, card.input_size)
    calibration_inputs = [_batch_of_one(tensor) for tensor in calibration]
    held_out_inputs = [_batch_of_one(tensor) for tensor in held_out]
    judge = _Judge(openvino.Core(), threads, model, held_out_inputs)

    candidate = judge(int8_model(model, calibration_inputs), "int8")
    if candidate.max_difference > tolerance and mixed_precision:
        logger.info("int8 moves probabilities by %.4f; trying mixed precision.", candidate.max_difference)
        quantized = _mixed_precision(nncf, model, calibration_inputs, judge, tolerance, max_float32_layers)
        candidate = judge(quantized, "mixed")
    accepted = candidate.max_difference <= tolerance
    timings = judge.forward_ms(model, candidate.model)
    files = _install(openvino, candidate.model, directory) if accepted else {}
    if not accepted:
        _remove_form_files(directory)
    record = {
        "accepted": accepted,
        "precision": candidate.precision,
        "files": files,
        "weights_sha256": card.weights_sha256,
        "max_abs_probability_difference": round(candidate.max_difference, 6),
        "tolerance": tolerance,
        "calibration_images": len(calibration),
        "held_out_images": len(held_out),
        "float32_layers": list(candidate.float32_layers),
        "forward_ms": {"f32": round(timings[0], 2), "int8": round(timings[1], 2)},
        "measured_on": {
            "cpu": cpu_model_name(),
            "int8_isa": int8_instruction_set(),
            "openvino": version("openvino"),
            "nncf": version("nncf"),
        },
    }
    return _record_in_card(directory, record)


def int8_model(model: Any, calibration: Sequence[np.ndarray]) -> Any:
    """NNCF's int8 post-training quantization of an OpenVINO network, calibrated on these inputs."""
    _, nncf = _import_tools()
    inputs = [_batch_of_one(tensor) for tensor in calibration]
    return nncf.quantize(model, nncf.Dataset(inputs), subset_size=len(inputs))


def _import_tools() -> tuple[Any, Any]:
    # NNCF reports usage to a remote service unless it believes it runs in CI; a hospital's
    # machines must not call out, and this variable is the one switch NNCF offers.
    os.environ.setdefault("NNCF_CI", "1")
    import nncf
    import openvino

    nncf.set_log_level(logging.WARNING)
    return openvino, nncf


class _Judge:
    """Compiles networks as the engine does and compares their probabilities with float32's."""

    def __init__(self, core: Any, threads: int, model: Any, held_out: list[np.ndarray]) -> None:
        from ml.classifier.runtime_openvino import PROBABILITIES_OUTPUT

        self.core = core
        self.threads = threads
        self.held_out = held_out
        self.output = PROBABILITIES_OUTPUT
        self.reference = self.probabilities(self.compile(model), held_out)

    def compile(self, model: Any) -> Any:
        config = {
            "INFERENCE_NUM_THREADS": self.threads,
            "NUM_STREAMS": 1,
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": "f32",
        }
        return self.core.compile_model(model, "CPU", config)

    def probabilities(self, compiled: Any, inputs: Sequence[np.ndarray]) -> np.ndarray:
        return np.concatenate([compiled(image)[self.output] for image in inputs])

    def __call__(self, quantized: Any, precision: str) -> Candidate:
        """The quantized network with its largest probability difference on the held-out images."""
        probabilities = self.probabilities(self.compile(quantized), self.held_out)
        return Candidate(
            model=quantized,
            precision=precision,
            max_difference=float(np.abs(probabilities - self.reference).max()),
            float32_layers=float32_layers(quantized),
        )

    def forward_ms(self, model: Any, quantized: Any) -> tuple[float, float]:
        """Median forward times of both networks, interleaved so that other load hits both alike."""
        requests = (
            self.compile(model).create_infer_request(),
            self.compile(quantized).create_infer_request(),
        )
        timings: tuple[list[float], list[float]] = ([], [])
        for request in requests:
            request.infer({0: self.held_out[0]})
        for _ in range(TIMING_ROUNDS):
            for image in self.held_out:
                for request, times in zip(requests, timings, strict=True):
                    start = time.perf_counter()
                    request.infer({0: image})
                    times.append(time.perf_counter() - start)
        return 1000.0 * statistics.median(timings[0]), 1000.0 * statistics.median(timings[1])


def _mixed_precision(
    nncf: Any,
    model: Any,
    calibration: list[np.ndarray],
    judge: _Judge,
    tolerance: float,
    max_float32_layers: int | None,
) -> Any:
    """NNCF's accuracy-aware quantization, its metric the largest probability difference.

    The layers are ranked and restored on the calibration radiographs, so the held-out ones
    still judge the result fairly. NNCF divides by the float32 metric, hence one minus the
    difference rather than the difference itself.
    """
    from nncf.quantization.advanced_parameters import AdvancedAccuracyRestorerParameters

    expected = judge.probabilities(judge.compile(model), calibration)
    items = list(zip(calibration, expected, strict=True))

    def agreement(compiled: Any, data: Any) -> float:
        return 1.0 - max(
            float(np.abs(compiled(image)[judge.output][0] - target).max()) for image, target in data
        )

    restorer = AdvancedAccuracyRestorerParameters(
        max_num_iterations=max_float32_layers if max_float32_layers is not None else 2**31,
        num_ranking_workers=1,
    )
    return nncf.quantize_with_accuracy_control(
        model,
        nncf.Dataset(items, lambda item: item[0]),
        nncf.Dataset(items),
        agreement,
        max_drop=tolerance,
        drop_type=nncf.DropType.ABSOLUTE,
        subset_size=len(items),
        advanced_accuracy_restorer_parameters=restorer,
    )


def float32_layers(model: Any) -> tuple[str, ...]:
    """The convolutions and matrix products of a quantized network whose input is not quantized."""
    return tuple(
        op.get_friendly_name()
        for op in model.get_ordered_ops()
        if op.get_type_name() in _QUANTIZED_OPS and not _input_is_quantized(op)
    )


def _input_is_quantized(op: Any) -> bool:
    node = op.input(0).get_source_output().get_node()
    # NNCF quantizes the stem's input before the layout transpose, which moves values unchanged.
    while node.get_type_name() == "Transpose":
        node = node.input(0).get_source_output().get_node()
    return node.get_type_name() == "FakeQuantize"


def _batch_of_one(tensor: np.ndarray) -> np.ndarray:
    tensor = np.asarray(tensor, dtype=np.float32)
    return np.ascontiguousarray(tensor[np.newaxis] if tensor.ndim == 3 else tensor)


def _install(openvino: Any, model: Any, directory: Path) -> dict[str, str]:
    """Write the model as IR under temporary names, then rename: a reader never sees half a model."""
    with tempfile.TemporaryDirectory(prefix=".quantize-", dir=directory) as scratch:
        staged = Path(scratch) / INT8_MODEL_FILENAME
        openvino.save_model(model, staged, compress_to_fp16=False)
        digests = {
            INT8_MODEL_FILENAME: sha256_file(staged),
            INT8_WEIGHTS_FILENAME: sha256_file(staged.with_suffix(".bin")),
        }
        for name in digests:
            os.replace(Path(scratch) / name, directory / name)
    return digests


def _remove_form_files(directory: Path) -> None:
    for name in (INT8_MODEL_FILENAME, INT8_WEIGHTS_FILENAME):
        (directory / name).unlink(missing_ok=True)


def _record_in_card(directory: Path, record: dict[str, Any]) -> ModelCard:
    card = ModelCard.load(directory / CARD_FILENAME)
    forms = dict((card.inference or {}).get("forms", {}))
    forms[INT8_FORM] = record
    updated = ModelCard.from_dict({**card.to_dict(), "inference": {"forms": forms}})
    updated.save(directory / CARD_FILENAME)
    return replace(updated, weights_sha256=record["weights_sha256"])
