"""Which runtime computes the networks (OpenVINO on a CPU, Keras on TensorFlow on a GPU) and on how many CPUs.

Importing this module imports no framework: a CPU-only host never imports TensorFlow to
decide.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

BACKEND_ENV_VAR = "CXR_BACKEND"
BACKENDS = ("auto", "openvino", "keras")


def resolve_backend(requested: str | None = None) -> str:
    """The runtime to use: ``requested``, else ``$CXR_BACKEND``, where ``auto`` picks by hardware.

    ``auto`` runs Keras on TensorFlow when TensorFlow sees a GPU, else OpenVINO on the CPU
    (falling back to Keras where OpenVINO is not installed).
    """
    value = (requested if requested is not None else os.environ.get(BACKEND_ENV_VAR, "")).strip().lower()
    value = value or "auto"
    if value not in BACKENDS:
        raise ValueError(f"{BACKEND_ENV_VAR} must be one of {', '.join(BACKENDS)}, not {value!r}.")
    if value != "auto":
        return value
    if _gpu_driver_present():
        from ml.engine.keras_forward import gpu_visible

        if gpu_visible():
            return "keras"
    try:
        import openvino  # noqa: F401
    except ImportError:
        logger.warning("OpenVINO is not installed; running the networks on TensorFlow instead.")
        return "keras"
    return "openvino"


def _gpu_driver_present() -> bool:
    """A cheap first look for an NVIDIA GPU, so CPU-only hosts never import TensorFlow for it."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    return Path("/proc/driver/nvidia/version").exists() or Path("/dev/nvidiactl").exists()


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, which containers and taskset narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def checked_threads(threads: int | None) -> int:
    """``threads`` checked to be a positive integer, or the available CPUs for None."""
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer, not {threads!r}.")
    return threads if threads is not None else available_cpus()
