"""``make bench``: how fast the engine is, against the other ways to run the same DenseNet121.

Run as ``python -m ml.bench [--weights DIR] [--threads 2] [--batch 1] [--backend auto]``.
It times the engine on the shared radiographs (medians after warm-up), prints a table
that also times TensorFlow (oneDNN, and with XLA), ONNX Runtime running the Keras model
exported to ONNX, and OpenVINO in float32, bf16 and int8, each with its largest probability
difference from the Keras reference (int8: from OpenVINO float32), and ends with one JSON line:

    {"forward_ms": ..., "heatmaps_all_ms": ..., "heatmap_overhead_ratio": ..., "study_ms": ...,
     "study_to_forward_ratio": ..., "onnxruntime_ms": ..., "forward_vs_onnxruntime": ...,
     "cold_start_s": ..., "cold_start_untrained_s": ..., "backend": "...", "threads": 2,
     "batch": 1, "explanations": {method: {"label", "seconds", "deletion_auc", "insertion_auc"}},
     "int8": {"forward_ms": ..., "vs_onnxruntime": ..., "max_abs_dp_vs_f32": ...,
     "accepted": ..., "source": "..."}}

``forward_ms`` is the engine's network alone (prepared image in, probabilities out) in the form
the engine chose (int8 where the weights directory holds an accepted int8 form for this CPU);
``heatmaps_all_ms`` is the same pass also giving every finding's normalised Grad-CAM map;
``study_ms`` is what a worker does for a study the web process already took in
(``Pipeline.analyze`` on the prepared image, then the compact heatmaps written as bytes);
``cold_start_s`` runs a fresh process from its start to its first analysis through the
pipeline, with the weights installed and (``cold_start_untrained_s``) without; ``explanations``
times each explanation method (``Pipeline.explain``, faithfulness curves included) for one
finding. The int8 row runs the directory's accepted int8 model, else one quantized here with
NNCF on half of the radiographs (``source`` says which) and judged on all of them. Comparisons
need the ``bench`` extra (onnxruntime, tf2onnx); rows whose tools are missing say so.
Benchmarks are not tests: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ml.bench_networks import NetworkFigures, cold_worker, network_figures, print_networks, worker_study_ms

if TYPE_CHECKING:
    from ml.classifier.engine import InferenceEngine
    from ml.pipeline import Pipeline
    from ml.prepared import PreparedImage


REPO_ROOT = Path(__file__).resolve().parents[3]
WARM_UP_CALLS = 5


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ml.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--weights", type=Path, help="weights directory (default $CXR_WEIGHTS, else untrained)"
    )
    parser.add_argument(
        "--data", type=Path, default=None, help="folder of radiographs (default: shared NIH set)"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--backend", default=None, help="engine backend (default $CXR_BACKEND, else auto)")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the radiographs per measurement")
    parser.add_argument("--no-compare", action="store_true", help="skip the other runtimes")
    parser.add_argument("--no-explanations", action="store_true", help="skip timing each explanation method")
    parser.add_argument(
        "--no-networks",
        action="store_true",
        help="skip the analysers' networks, the study and the cold worker",
    )
    arguments = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from ml.classifier.analyser import CLASSIFIER
    from ml.classifier.card import ModelCard
    from ml.classifier.engine import InferenceEngine
    from ml.pipeline import Pipeline

    data_dir = arguments.data or _shared_radiographs()
    paths = sorted(data_dir.resolve().glob("*.png"))
    if not paths:
        print(f"error: no radiographs (*.png) in {data_dir}", file=sys.stderr)
        return 2
    files = [path.read_bytes() for path in paths]

    with tempfile.TemporaryDirectory(prefix="cxr-bench-") as scratch:
        weights_dir = arguments.weights or ModelCard.weights_dir_from_env()
        if weights_dir is None:
            # The comparisons read the network from a weights file; the untrained one is saved
            # once so that every row (and the installed-weights cold start) runs the same arrays.
            weights_dir = Path(scratch) / "untrained-weights"
            InferenceEngine.load(None, threads=arguments.threads, backend="keras").save(
                weights_dir, trained=False
            )
        pipeline = Pipeline(weights_dir, threads=arguments.threads, backend=arguments.backend)
        engine = pipeline.engine
        card = engine.card
        prepared = [pipeline.radiograph_intake(data).prepared for data in files]
        inputs = [image.inputs[CLASSIFIER][np.newaxis] for image in prepared]
        batches = _batches(inputs, arguments.batch)
        # First: the longest part, and the one that needs the most memory while it runs.
        workers = (
            None if arguments.no_networks else _worker_figures(weights_dir, files[0], paths[0], arguments)
        )

        candidates = [
            Candidate(
                f"engine forward ({engine.backend})",
                _forward_only(engine, Path(weights_dir), arguments.threads),
                batches,
            ),
            Candidate(
                "engine forward + all-finding Grad-CAM (explain)",
                engine.explain,
                batches,
                f"all {len(card.labels)} findings' normalised maps (7x7)",
            ),
        ]
        if arguments.batch == 1:
            candidates.append(
                Candidate(
                    "worker per study (Pipeline.run + compact heatmaps)",
                    lambda image: pipeline.run(CLASSIFIER, [image])[0].attachment(),
                    prepared,
                    "findings, scores and 14 maps written as bytes",
                )
            )
        candidates.append(
            Candidate(
                "web intake (Pipeline.intake: decode, screen, prepare)",
                pipeline.radiograph_intake,
                files,
                "not on the worker's path",
            )
        )
        int8 = None
        if not arguments.no_compare:
            comparisons, int8 = _comparisons(
                engine, Path(weights_dir), Path(scratch), inputs, batches, arguments.threads
            )
            candidates.extend(comparisons)
        load_before = os.getloadavg()[0]
        _measure(candidates, arguments.rounds)
        load_after = os.getloadavg()[0]
        cold_start_s = _cold_start(weights_dir, paths[0], arguments.threads, arguments.backend)
        cold_start_untrained_s = _cold_start(None, paths[0], arguments.threads, arguments.backend)
        explanations = None if arguments.no_explanations else _explanation_times(pipeline, prepared[0])

    forward_ms, heatmaps_ms = candidates[0].median_ms, candidates[1].median_ms
    study = next((c for c in candidates if c.name.startswith("worker per study")), None)
    onnxruntime = next((c for c in candidates if c.name.startswith("ONNX Runtime") and c.timings), None)
    result: dict[str, Any] = {
        "forward_ms": round(forward_ms, 2),
        "heatmaps_all_ms": round(heatmaps_ms, 2),
        "heatmap_overhead_ratio": round(heatmaps_ms / forward_ms, 3),
        "study_ms": round(study.median_ms, 2) if study else None,
        "study_to_forward_ratio": round(study.median_ms / forward_ms, 2) if study else None,
        "onnxruntime_ms": round(onnxruntime.median_ms, 2) if onnxruntime else None,
        "forward_vs_onnxruntime": round(forward_ms / onnxruntime.median_ms, 3) if onnxruntime else None,
        "cold_start_s": round(cold_start_s, 2),
        "cold_start_untrained_s": round(cold_start_untrained_s, 2),
        "backend": engine.backend,
        "threads": arguments.threads,
        "batch": arguments.batch,
    }
    if explanations is not None:
        result["explanations"] = explanations
    if int8 is not None:
        result["int8"] = int8.figures(onnxruntime.median_ms if onnxruntime else None)
    if workers is not None:
        networks, study_ms, cold = workers
        result["networks"] = {figure.name: figure.to_dict() for figure in networks}
        result["study_with_analysers_ms"] = round(study_ms, 1)
        result["study_with_analysers_to_forward_ratio"] = round(study_ms / forward_ms, 2)
        result["worker_cold_start"] = cold
    _print_table(candidates, result, len(paths), card.name, (load_before, load_after))
    if workers is not None:
        print_networks(workers[0])
        print(
            "a study with the default analysers costs the worker "
            f"{result['study_with_analysers_ms']:.0f} ms, "
            f"{result['study_with_analysers_to_forward_ratio']:.2f} times the classifier's forward pass; a "
            f"worker process builds every network in {cold['built_s']:.2f} s, finishes its first study at "
            f"{cold['first_study_s']:.2f} s, with {cold['rss_mib']:.0f} MiB resident"
        )
    print(json.dumps(result))
    return 0


@dataclass
class Candidate:
    """One thing to time: a function, the items to call it on, and what it is."""

    name: str
    function: Callable[[Any], Any]
    items: Sequence[Any]
    note: str = ""
    timings: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return 1000.0 * statistics.median(self.timings)


def _measure(candidates: list[Candidate], rounds: int) -> None:
    """Time every candidate over its items, ``rounds`` times, interleaving the candidates.

    Round by round, each candidate gets one pass over its items, in a shuffled order:
    whatever else the machine does meanwhile (this is often a shared virtual machine) falls
    on all of them alike instead of on whichever ran at that moment. Runtimes leave their
    threads spinning for a moment after a call, so each pass starts after a pause and a few
    untimed calls.
    """
    order = list(candidates)
    for round_number in range(max(1, rounds)):
        random.Random(round_number).shuffle(order)
        for candidate in order:
            if not candidate.items:
                continue
            time.sleep(0.3)
            for index in range(WARM_UP_CALLS):
                candidate.function(candidate.items[index % len(candidate.items)])
            for item in candidate.items:
                start = time.perf_counter()
                candidate.function(item)
                candidate.timings.append(time.perf_counter() - start)


def _worker_figures(
    weights_dir: Path, data: bytes, path: Path, arguments: argparse.Namespace
) -> tuple[list[NetworkFigures], float, dict[str, float]]:
    """Each analyser's network, a whole study with the default analysers, a cold worker process."""
    from ml.analysers import BESIDE_THE_CLASSIFIER, AnalyserWeights
    from ml.pipeline import Pipeline

    pipeline = Pipeline(
        weights_dir,
        threads=arguments.threads,
        backend=arguments.backend,
        analysers=AnalyserWeights(kinds=BESIDE_THE_CLASSIFIER),
    )
    intake = pipeline.radiograph_intake(data)
    with tempfile.TemporaryDirectory(prefix="cxr-bench-networks-") as scratch:
        networks = network_figures(intake.radiograph, Path(scratch), arguments.threads)
    study_ms = worker_study_ms(pipeline, intake.prepared, BESIDE_THE_CLASSIFIER)
    return networks, study_ms, cold_worker(weights_dir, path, arguments.threads)


def _shared_radiographs() -> Path:
    """The tests' radiographs: $CXR_DATA_DIR/nih, else ../shared/data/cxr/nih beside the repository."""
    override = os.environ.get("CXR_DATA_DIR", "").strip()
    return (Path(override) if override else REPO_ROOT / ".." / "shared" / "data" / "cxr") / "nih"


def _batches(inputs: list[np.ndarray], batch: int) -> list[np.ndarray]:
    if batch == 1:
        return inputs
    repeated = (inputs * (batch // len(inputs) + 1))[:batch]
    return [np.concatenate(repeated)]


def _forward_only(
    engine: InferenceEngine, weights_dir: Path, threads: int
) -> Callable[[np.ndarray], np.ndarray]:
    """The engine's network in the form it runs, probabilities only: the forward pass alone."""
    card = engine.card
    if engine.backend.startswith("openvino"):
        from ml.cards.files import WEIGHTS_FILENAME
        from ml.classifier.forms import INT8_FORM, INT8_MODEL_FILENAME
        from ml.classifier.h5 import read_densenet_weights
        from ml.classifier.runtime_openvino import OpenVINORuntime

        weights = read_densenet_weights(weights_dir / WEIGHTS_FILENAME, card.input_channels, len(card.labels))
        runtime = OpenVINORuntime(
            weights,
            card.input_channels,
            card.input_size,
            threads=threads,
            with_feature_map=False,
            quantized_model=weights_dir / INT8_MODEL_FILENAME if engine.backend == INT8_FORM else None,
        )
        return lambda images: runtime.run(images)[1]
    import tensorflow as tf

    model = engine.model
    function = tf.function(lambda images: model(images, training=False))
    return lambda images: function(tf.constant(images)).numpy()


@dataclass
class Int8Figures:
    """The int8 row's candidate and what the JSON line says about it."""

    candidate: Candidate
    max_difference: float
    accepted: bool
    source: str

    def figures(self, onnxruntime_ms: float | None) -> dict[str, Any]:
        forward_ms = self.candidate.median_ms
        return {
            "forward_ms": round(forward_ms, 2),
            "vs_onnxruntime": round(forward_ms / onnxruntime_ms, 3) if onnxruntime_ms else None,
            "max_abs_dp_vs_f32": round(self.max_difference, 4),
            "accepted": self.accepted,
            "source": self.source,
        }


def _int8_candidate(
    weights_dir: Path,
    scratch: Path,
    card: Any,
    weights: Any,
    inputs: list[np.ndarray],
    batches: list[np.ndarray],
    threads: int,
    float32: np.ndarray,
) -> Int8Figures:
    """OpenVINO int8: the directory's accepted form if it has one, else quantized here with NNCF."""
    from ml.classifier.forms import INT8_FORM, INT8_MODEL_FILENAME
    from ml.classifier.quantization import TOLERANCE
    from ml.classifier.runtime_openvino import OpenVINORuntime

    record = (card.inference or {}).get("forms", {}).get(INT8_FORM)
    if record is not None and record["accepted"]:
        path, source = weights_dir / INT8_MODEL_FILENAME, "installed (accepted)"
    else:
        from openvino import save_model

        from ml.classifier.quantization import int8_model
        from ml.classifier.runtime_openvino import build_model

        # Calibrated on every other radiograph, as `python -m ml quantize` would be given them.
        model = int8_model(build_model(weights, card.input_channels, card.input_size), inputs[0::2])
        path, source = scratch / "bench-int8.xml", "quantized by the bench"
        save_model(model, path, compress_to_fp16=False)
    runtime = OpenVINORuntime(
        weights,
        card.input_channels,
        card.input_size,
        threads=threads,
        with_feature_map=False,
        quantized_model=path,
    )
    probabilities = np.concatenate([runtime.run(x)[1] for x in inputs])
    difference = float(np.abs(probabilities - float32).max())
    accepted = difference <= TOLERANCE
    verdict = "within" if accepted else "beyond"
    note = f"max |Δp| vs OpenVINO f32 {difference:.1e} ({verdict} {TOLERANCE}; {source})"
    candidate = Candidate("OpenVINO int8 (NNCF)", lambda x: runtime.run(x)[1], batches, note)
    return Int8Figures(candidate, difference, accepted, source)


def _comparisons(
    engine: InferenceEngine,
    weights_dir: Path,
    scratch: Path,
    inputs: list[np.ndarray],
    batches: list[np.ndarray],
    threads: int,
) -> tuple[list[Candidate], Int8Figures]:
    """Other runtimes of the same network, each noted with its largest difference from Keras (int8: f32)."""
    import tensorflow as tf

    from ml.classifier.network import densenet_weights
    from ml.engine.keras_forward import configure_threads

    configure_threads(threads)
    model = engine.model
    card = engine.card
    keras_forward = tf.function(lambda images: model(images, training=False))
    reference = np.concatenate([keras_forward(tf.constant(x)).numpy() for x in inputs])

    def candidate(name: str, function: Callable[[np.ndarray], np.ndarray]) -> Candidate:
        probabilities = np.concatenate([function(x) for x in inputs])
        difference = f"max |Δp| vs Keras {np.abs(probabilities - reference).max():.1e}"
        return Candidate(name, function, batches, difference)

    candidates = [candidate(f"engine ({engine.backend}) probabilities", lambda x: engine.explain(x)[0])]
    candidates[0].items = []  # Only its difference from Keras is wanted; it is timed above.
    candidates.append(
        Candidate(
            "TensorFlow 2.21 + oneDNN (Keras reference)",
            lambda x: keras_forward(tf.constant(x)).numpy(),
            batches,
            "reference",
        )
    )
    xla_forward = tf.function(lambda images: model(images, training=False), jit_compile=True)
    candidates.append(
        candidate("TensorFlow + XLA (jit_compile)", lambda x: xla_forward(tf.constant(x)).numpy())
    )
    try:
        import onnxruntime
        import tf2onnx
    except ImportError as error:
        print(f"ONNX Runtime comparison skipped: {error.name} is not installed (pip install -e 'ml[bench]').")
    else:
        signature = (
            tf.TensorSpec(
                (None, card.input_size, card.input_size, card.input_channels), tf.float32, name="images"
            ),
        )
        exported = tf.function(lambda images: model(images, training=False))
        onnx_model, _ = tf2onnx.convert.from_function(exported, input_signature=signature, opset=17)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = onnxruntime.InferenceSession(
            onnx_model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        name = session.get_inputs()[0].name
        candidates.append(
            candidate(
                f"ONNX Runtime {onnxruntime.__version__} fp32 (Keras → tf2onnx)",
                lambda x: session.run(None, {name: x})[0],
            )
        )
    from ml.classifier.runtime_openvino import OpenVINORuntime

    weights = densenet_weights(model)
    float32 = None
    for precision in ("f32", "bf16"):
        runtime = OpenVINORuntime(
            weights,
            card.input_channels,
            card.input_size,
            threads=threads,
            precision=precision,
            with_feature_map=False,
        )
        candidates.append(candidate(f"OpenVINO {precision}", lambda x, runtime=runtime: runtime.run(x)[1]))
        if precision == "f32":
            float32 = np.concatenate([runtime.run(x)[1] for x in inputs])
    int8 = _int8_candidate(weights_dir, scratch, card, weights, inputs, batches, threads, float32)
    candidates.append(int8.candidate)
    return candidates, int8


def _explanation_times(pipeline: Pipeline, image: PreparedImage) -> dict[str, dict[str, Any]]:
    """Each explanation method's seconds for one finding on one radiograph.

    The finding is the one whose probability is nearest 0.5, so that the faithfulness curves have
    room to move (an untrained model is certain of some findings). One saliency map first builds
    the Keras model and traces the gradient function, so each method is timed as a worker that
    has explained before runs it.
    """
    from ml.classifier.analyser import CLASSIFIER
    from ml.classifier.explanations.explanation import METHODS

    [result] = pipeline.run(CLASSIFIER, [image])
    label = min(result.findings, key=lambda finding: abs(finding.probability - 0.5)).label
    pipeline.explain(image, label, "saliency")
    figures = {}
    for method in METHODS:
        explanation = pipeline.explain(image, label, method)
        figures[method] = {
            "label": label,
            "seconds": explanation.seconds,
            "deletion_auc": round(explanation.deletion_auc, 4),
            "insertion_auc": round(explanation.insertion_auc, 4),
        }
    return figures


def _cold_start(weights_dir: Path | None, image: Path, threads: int, backend: str | None) -> float:
    """Seconds from starting a fresh Python process to its first analysis (median of three)."""
    code = (
        "from ml.pipeline import Pipeline\n"
        f"pipeline = Pipeline({None if weights_dir is None else str(weights_dir)!r}, threads={threads}"
        f"{'' if backend is None else f', backend={backend!r}'})\n"
        f"pipeline(open({str(image)!r}, 'rb').read()).heatmaps.to_bytes()\n"
    )
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def _print_table(
    candidates: list[Candidate],
    result: dict[str, Any],
    images: int,
    model_name: str,
    load: tuple[float, float],
) -> None:
    timed = [candidate for candidate in candidates if candidate.timings]
    # The engine's own row carries its difference from Keras, measured by the comparisons.
    engine_note = next((c.note for c in candidates if c.name.endswith("probabilities") and not c.timings), "")
    baseline = next((c.median_ms for c in timed if c.name.startswith("ONNX Runtime")), None)
    print(
        f"DenseNet121 ({model_name}), {result['threads']} threads, batch {result['batch']}, medians over "
        f"{images} radiographs; CPU: {_cpu_name()}; load average {load[0]:.2f} before, {load[1]:.2f} after"
    )
    width = max(len(candidate.name) for candidate in timed)
    header = f"{'':<{width}}  {'ms':>8}  {'vs ORT':>6}  notes"
    print(header)
    print("-" * len(header))
    for index, candidate in enumerate(timed):
        ms = candidate.median_ms
        ratio = f"{ms / baseline:6.2f}" if baseline else f"{'':>6}"
        note = engine_note if index == 0 else candidate.note
        print(f"{candidate.name:<{width}}  {ms:8.1f}  {ratio}  {note}")
    print(
        f"cold start (process start to first analysis, {result['backend']}): {result['cold_start_s']:.2f} s "
        f"with the weights installed, {result['cold_start_untrained_s']:.2f} s untrained; "
        f"all-finding heatmaps cost {result['heatmap_overhead_ratio']:.3f} times the forward pass"
    )
    if result["study_to_forward_ratio"] is not None:
        print(f"a study costs the worker {result['study_to_forward_ratio']:.2f} times the forward pass")
    for method, figures in result.get("explanations", {}).items():
        print(
            f"explanation of {figures['label']}: {method:<21} {figures['seconds']:7.2f} s "
            "(with its faithfulness curves); "
            f"deletion AUC {figures['deletion_auc']:.3f}, insertion AUC {figures['insertion_auc']:.3f}"
        )


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} logical CPUs)"
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    sys.exit(main())
