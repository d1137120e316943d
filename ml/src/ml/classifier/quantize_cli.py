"""``python -m ml quantize``: an int8 form of installed weights, judged on held-out radiographs."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ml.errors import DataError, ImageError


def add_quantize_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "quantize",
        help="quantize installed weights to int8 (NNCF) and record whether the result is accurate",
        description=(
            "Calibrate int8 post-training quantization on radiographs, then accept the int8 model only "
            "if every probability on the held-out radiographs stays within 0.01 of float32's (optionally "
            "trying mixed precision next). The verdict goes into the card; workers run an accepted form "
            "on CPUs like this one."
        ),
    )
    parser.add_argument(
        "--weights", required=True, type=Path, metavar="DIR", help="an installed weights directory"
    )
    parser.add_argument(
        "--calibration",
        required=True,
        nargs="+",
        type=Path,
        metavar="IMAGE",
        help="radiographs to calibrate on",
    )
    parser.add_argument(
        "--held-out",
        required=True,
        nargs="+",
        type=Path,
        metavar="IMAGE",
        help="other radiographs, on which the quantized model is judged",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads (default: all this process may use)"
    )
    parser.add_argument(
        "--mixed-precision",
        action="store_true",
        help="if int8 is refused, keep the most sensitive layers in float32 (NNCF accuracy control; "
        "ranking the layers alone took 10 to 20 minutes on 2 cores)",
    )
    parser.add_argument(
        "--max-float32-layers",
        type=int,
        default=24,
        metavar="N",
        help="with --mixed-precision, keep at most N layers in float32 (default 24, a fifth of them)",
    )
    parser.set_defaults(command=run_quantize)


def run_quantize(arguments: argparse.Namespace) -> int:
    from ml.classifier.quantization import quantize_weights_directory
    from ml.engine.backend import available_cpus

    overlap = {path.resolve() for path in arguments.calibration} & {
        path.resolve() for path in arguments.held_out
    }
    if overlap:
        raise DataError(
            f"A radiograph cannot both calibrate and judge: {', '.join(sorted(map(str, overlap)))}."
        )
    calibration = prepared_inputs(arguments.weights, arguments.calibration)
    held_out = prepared_inputs(arguments.weights, arguments.held_out)
    card = quantize_weights_directory(
        arguments.weights,
        calibration,
        held_out,
        threads=arguments.threads if arguments.threads is not None else available_cpus(),
        mixed_precision=arguments.mixed_precision,
        max_float32_layers=arguments.max_float32_layers,
    )
    record = card.inference["forms"]["openvino-int8"]
    verdict = "accepted" if record["accepted"] else "refused: workers keep float32"
    print(
        f"{record['precision']}: largest |Δp| {record['max_abs_probability_difference']:.4f} vs float32 on "
        f"{record['held_out_images']} held-out radiographs (tolerance {record['tolerance']}): {verdict}"
    )
    print(
        f"  forward {record['forward_ms']['int8']:.1f} ms vs float32 {record['forward_ms']['f32']:.1f} ms on "
        f"{record['measured_on']['cpu']} ({record['measured_on']['int8_isa']}); "
        f"{len(record['float32_layers'])} layers in float32"
    )
    return 0


def prepared_inputs(weights_dir: Path, paths: list[Path]) -> list[np.ndarray]:
    """The network inputs of radiograph files, prepared exactly as the pipeline prepares them."""
    from ml.classifier.analyser import CLASSIFIER
    from ml.pipeline import Pipeline

    pipeline = Pipeline(weights_dir)
    inputs = []
    for path in paths:
        try:
            inputs.append(pipeline.radiograph_intake(path.read_bytes()).prepared.inputs[CLASSIFIER])
        except OSError as error:
            raise DataError(f"{path} cannot be read: {error.strerror or error}.") from error
        except ImageError as error:
            raise DataError(f"{path}: {error}") from error
    return inputs
