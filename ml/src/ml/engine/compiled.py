"""A network on OpenVINO's CPU runtime, read from the cache of converted networks (converted on a miss).

The conversion runs in a child process (``python -m ml.engine.convert``), because it needs
TensorFlow and this process must not import it: a worker only reads IR and compiles it,
in float32, for a batch of one (a CPU worker analyses one radiograph at a time, and static
shapes are OpenVINO's fastest).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov

from ml.engine import cache
from ml.engine.backend import checked_threads
from ml.engine.convert import WEIGHTS_ERROR_EXIT
from ml.engine.source import NetworkSource
from ml.errors import NetworkConversionError, WeightsError

logger = logging.getLogger(__name__)

OPENVINO_F32 = "openvino-f32"
# The full ChestX-Det PSPNet takes minutes to build and convert on a small CPU.
CONVERSION_TIMEOUT_S = 1800


def cpu_compile_config(threads: int, precision: str = "f32") -> dict[str, Any]:
    """OpenVINO's CPU settings for one worker process's networks."""
    return {
        "INFERENCE_NUM_THREADS": threads,
        "NUM_STREAMS": 1,
        "PERFORMANCE_HINT": "LATENCY",
        # OpenVINO picks bf16 by itself on CPUs that have it; "f32" keeps full precision.
        "INFERENCE_PRECISION_HINT": precision,
        # Celery runs several worker processes on one node: pinning each one's threads to
        # fixed cores would make them fight over the same cores.
        "ENABLE_CPU_PINNING": False,
    }


class CompiledNetwork:
    """A converted network compiled for the CPU, answering its output for a batch of inputs."""

    name = OPENVINO_F32

    def __init__(self, model: ov.Model, *, threads: int, key: str, converted: bool) -> None:
        self.key = key
        # Whether this load converted the network (False: it was read from the cache).
        self.converted = converted
        if len(model.inputs) != 1 or len(model.outputs) != 1:
            raise NetworkConversionError(
                f"The converted network {key} does not have one input and one output."
            )
        dimensions = list(model.input(0).get_partial_shape())[1:]
        if not all(dimension.is_static for dimension in dimensions):
            raise NetworkConversionError(f"The converted network {key} has a dynamic input {dimensions}.")
        model.reshape([1, *(dimension.get_length() for dimension in dimensions)])
        self._compiled = ov.Core().compile_model(model, "CPU", cpu_compile_config(threads))
        self._request = self._compiled.create_infer_request()
        self.input_shape = tuple(self._compiled.input(0).get_shape())[1:]
        # An infer request serves one caller at a time; the embedded mode may call from threads.
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        source: NetworkSource,
        *,
        threads: int | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> CompiledNetwork:
        """``source``'s network from the cache (``cache_dir``, else ``cache_root()``), converted on a miss.

        Raises WeightsError where the builder refuses its weights, NetworkConversionError where
        the conversion fails otherwise.
        """
        threads = checked_threads(threads)
        root = _root(cache_dir)
        key = source.cache_key(ov.get_version())
        with cache.key_lock(root, key):
            converted = bool(_convert_missing([source], root))
            try:
                model = ov.Core().read_model(root / key / cache.MODEL_FILE)
            except RuntimeError as error:
                raise NetworkConversionError(
                    f"OpenVINO cannot read the converted network {root / key}: {error}"
                ) from error
        return cls(model, threads=threads, key=key, converted=converted)

    def run(self, images: np.ndarray) -> np.ndarray:
        """The network's float32 output for a batch of inputs (N, *input_shape), one image at a time."""
        images = np.asarray(images, dtype=np.float32)
        if images.ndim != len(self.input_shape) + 1 or images.shape[1:] != self.input_shape:
            raise ValueError(
                f"Expected inputs of shape (N, {', '.join(map(str, self.input_shape))}), got {images.shape}."
            )
        outputs = []
        with self._lock:
            for image in images:
                self._request.infer({0: np.ascontiguousarray(image[np.newaxis])})
                outputs.append(self._request.get_output_tensor(0).data.copy())
        if not outputs:
            return np.zeros((0, *self._compiled.output(0).get_shape()[1:]), dtype=np.float32)
        return np.concatenate(outputs).astype(np.float32, copy=False)


def convert_missing(
    sources: Sequence[NetworkSource], cache_dir: str | os.PathLike[str] | None = None
) -> list[str]:
    """Convert, in one child process, every source the cache lacks; return their keys.

    A worker that is about to load several networks calls this first, so that TensorFlow is
    imported once for all of them rather than once for each.
    """
    root = _root(cache_dir)
    keys = sorted({source.cache_key(ov.get_version()) for source in sources})
    with contextlib.ExitStack() as locks:
        for key in keys:
            locks.enter_context(cache.key_lock(root, key))
        return _convert_missing(sources, root)


def _root(cache_dir: str | os.PathLike[str] | None) -> Path:
    return Path(cache_dir) if cache_dir is not None else cache.cache_root()


def _convert_missing(sources: Sequence[NetworkSource], root: Path) -> list[str]:
    """Convert the sources without a valid entry in ``root`` (their keys' locks held); return their keys."""
    missing: dict[str, NetworkSource] = {}
    for source in sources:
        key = source.cache_key(ov.get_version())
        if key not in missing and not cache.valid_entry(root / key, key):
            if (root / key).exists():
                logger.warning(
                    "The cached network %s is incomplete or damaged; converting it again.", root / key
                )
            missing[key] = source
    if not missing:
        return []
    staged = {key: cache.staging_folder(root, key) for key in missing}
    try:
        requests = [
            {
                "builder": source.builder,
                "arguments": source.arguments,
                "identity": source.identity,
                "output": str(staged[key] / cache.MODEL_FILE),
            }
            for key, source in missing.items()
        ]
        started = time.monotonic()
        completed = subprocess.run(
            [sys.executable, "-m", "ml.engine.convert"],
            input=json.dumps(requests),
            capture_output=True,
            text=True,
            timeout=CONVERSION_TIMEOUT_S,
            env=_child_environment(),
            check=False,
        )
        builders = ", ".join(source.builder for source in missing.values())
        last_line = (completed.stderr.strip().splitlines() or [""])[-1]
        if completed.returncode == WEIGHTS_ERROR_EXIT:
            raise WeightsError(last_line)
        if completed.returncode != 0:
            raise NetworkConversionError(
                f"Converting {builders} to OpenVINO failed (exit {completed.returncode}): "
                f"{completed.stderr.strip()[-2000:]}"
            )
        logger.info("Converted %s to OpenVINO in %.1f s.", builders, time.monotonic() - started)
        for key, source in missing.items():
            details = {"builder": source.builder, "identity": source.identity, "openvino": ov.get_version()}
            cache.publish(staged[key], root / key, key, details)
    finally:
        for folder in staged.values():
            shutil.rmtree(folder, ignore_errors=True)
    return list(missing)


def _child_environment() -> dict[str, str]:
    """This process's environment, with its import path (so the child imports the same ``ml``) and no GPU."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path and Path(path).is_dir())
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # The conversion is a CPU job: a GPU worker's memory stays its own.
    environment["CUDA_VISIBLE_DEVICES"] = "-1"
    return environment
