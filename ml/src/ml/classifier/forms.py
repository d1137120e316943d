"""Which form of the network a CPU worker runs: float32, or a quantized form the card accepts.

``python -m ml quantize`` (``ml.classifier.quantization``) writes an int8 OpenVINO model into a
weights directory and records in the card whether it was accepted (every probability within
the tolerance of float32 on held-out radiographs), on which CPU it was judged and how fast it
was there. This module only reads those records, so a worker never imports NNCF.

A form is used when it was accepted, runs faster than float32 where it was measured, and this
CPU computes int8 the way the measuring one did: with VNNI (or AMX) the integer products are
exact, while plain AVX2 saturates 16-bit intermediate sums, so a form judged on one class of
CPU proves nothing about the other. Its files must be the ones the record hashes, quantized
from the very weights the card hashes; anything else is refused as a weights problem.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml.classifier.card import ModelCard
from ml.classifier.registry import sha256_file
from ml.errors import WeightsError

logger = logging.getLogger(__name__)

INT8_FORM = "openvino-int8"
FLOAT32_FORM = "openvino-f32"
INT8_MODEL_FILENAME = "model.int8.xml"
INT8_WEIGHTS_FILENAME = "model.int8.bin"

# From the most capable down: the first class whose flags the CPU has names it.
_INT8_INSTRUCTION_SETS = (
    ("amx", frozenset({"amx_int8"})),
    ("vnni", frozenset({"avx512_vnni", "avx_vnni"})),
    ("avx2", frozenset({"avx2"})),
)


@dataclass(frozen=True)
class ChosenForm:
    """A quantized form to run: its name and the OpenVINO model file to read."""

    name: str
    model_path: Path


def cpu_flags() -> frozenset[str]:
    """The feature flags of this machine's CPU as Linux reports them (empty elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_model_name() -> str:
    """The CPU's model name as ``lscpu`` shows it, or "unknown"."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def int8_instruction_set(flags: frozenset[str] | None = None) -> str:
    """``amx``, ``vnni``, ``avx2`` or ``none``: how this CPU computes int8 convolutions."""
    flags = cpu_flags() if flags is None else flags
    for name, required in _INT8_INSTRUCTION_SETS:
        if flags & required:
            return name
    return "none"


def choose_form(
    card: ModelCard, weights_dir: str | Path, *, instruction_set: str | None = None
) -> ChosenForm | None:
    """The accepted quantized form to run on this CPU, or None for float32.

    ``card`` is the registry's card of ``weights_dir`` (its ``weights_sha256`` is that of the
    installed weights file). Raises WeightsError when an accepted form's files are missing,
    altered, or were quantized from other weights.
    """
    record = (card.inference or {}).get("forms", {}).get(INT8_FORM)
    if record is None or not record["accepted"]:
        return None
    directory = Path(weights_dir).expanduser().resolve()
    verify_form_files(record, card, directory)
    instruction_set = int8_instruction_set() if instruction_set is None else instruction_set
    measured_on = record["measured_on"]["int8_isa"]
    if instruction_set != measured_on:
        logger.warning(
            "The int8 model in %s was judged on a CPU with %s int8 instructions, this one has %s: "
            "running float32 (run `python -m ml quantize` on this kind of CPU to judge it here).",
            directory,
            measured_on,
            instruction_set,
        )
        return None
    timings = record["forward_ms"]
    if timings["int8"] >= timings["f32"]:
        logger.info(
            "The int8 model in %s was no faster than float32 where measured: running float32.", directory
        )
        return None
    return ChosenForm(INT8_FORM, directory / INT8_MODEL_FILENAME)


def verify_form_files(record: dict[str, Any], card: ModelCard, directory: Path) -> None:
    """Refuse a form quantized from other weights, or whose files are not the ones recorded."""
    if record["weights_sha256"] != card.weights_sha256:
        raise WeightsError(
            f"The int8 model in {directory} was quantized from weights with SHA-256 "
            f"{record['weights_sha256']}, not from the installed ones ({card.weights_sha256}): "
            "quantize these weights again."
        )
    for name, expected in record["files"].items():
        path = directory / name
        try:
            actual = sha256_file(path)
        except OSError as error:
            raise WeightsError(f"The int8 model file {path} cannot be read: {error}.") from error
        if actual != expected:
            raise WeightsError(
                f"{path} has SHA-256 {actual}, but the card records {expected}: "
                "the file was changed or replaced after it was quantized."
            )
