"""The bench's figures for every network beside the classifier, and for a whole worker.

Part of ``make bench`` (``ml.bench``): each network's time per radiograph (batch 1) and per batch
of 8, through the runtime its analyser runs it on (``analyser``) and through its Keras model
(``keras``): the segmentation U-Net, the PSPNet at 512² with the published block configuration,
the InceptionV3 screener and the CT ResNet-18 per slice; then what a worker spends on a whole
study with the default analysers, and a worker process's cold start to its first finished study
(analysers included) with its memory (RSS) once every default analyser is loaded.
Benchmarks are not tests: nothing here asserts.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

BATCH = 8
# Each timing: at least MIN_CALLS calls after one warm-up (one for a batch: the PSPNet's takes most of
# a minute in Keras), more while under the time budget, so that a bench run stays bounded.
MIN_CALLS = 2
MAX_CALLS = 10
BUDGET_SECONDS = 6.0


@dataclass
class NetworkFigures:
    """One network's milliseconds a radiograph (batch 1) and a batch of ``BATCH``, by runtime."""

    name: str
    runtime: str
    analyser_ms: float
    analyser_batch_ms: float
    keras_ms: float
    keras_batch_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "runtime": self.runtime,
            "analyser_ms": round(self.analyser_ms, 1),
            f"analyser_batch{BATCH}_ms": round(self.analyser_batch_ms, 1),
            "keras_ms": round(self.keras_ms, 1),
            f"keras_batch{BATCH}_ms": round(self.keras_batch_ms, 1),
        }


def median_ms(function: Callable[[], Any], min_calls: int = MIN_CALLS) -> float:
    """Median milliseconds of ``function`` after one untimed call, within the time budget."""
    function()
    timings: list[float] = []
    started = time.perf_counter()
    while len(timings) < min_calls or (
        len(timings) < MAX_CALLS and time.perf_counter() - started < BUDGET_SECONDS
    ):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(timings)


def keras_forward(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    import tensorflow as tf

    function = tf.function(lambda images: model(images, training=False))
    return lambda images: np.asarray(function(tf.constant(images)))


def time_network(
    name: str,
    runtime: str,
    analyser: Callable[[np.ndarray], Any],
    keras_model: Any,
    one: np.ndarray,
) -> NetworkFigures:
    batch = np.repeat(one, BATCH, axis=0)
    keras = keras_forward(keras_model)
    return NetworkFigures(
        name=name,
        runtime=runtime,
        analyser_ms=median_ms(lambda: analyser(one)),
        analyser_batch_ms=median_ms(lambda: analyser(batch), min_calls=1),
        keras_ms=median_ms(lambda: keras(one)),
        keras_batch_ms=median_ms(lambda: keras(batch), min_calls=1),
    )


def runtime_of(analyser: object) -> str:
    """The runtime an analyser reports (an engine's ``backend``), else Keras, which they ran on."""
    return str(getattr(analyser, "backend", "keras"))


def network_figures(radiograph: Any, scratch: Path, threads: int) -> list[NetworkFigures]:
    """Every network's figures on one screened radiograph (``ml.images.radiograph.Radiograph``)."""
    from ml.ct.analyser import CTAnalyser
    from ml.ct.model import build_resnet18
    from ml.ct.window import network_slices_uint8
    from ml.screener.analyser import ScreenerAnalyser
    from ml.screener.architectures import build_screener
    from ml.segmentation.analyser import SegmentationAnalyser
    from ml.segmentation.card import SegmentationCard, imagenet_preprocessing
    from ml.segmentation.network import build_network, load_network, save_network
    from ml.segmentation.pspnet_layout import PUBLISHED_BLOCK_CONFIG
    from ml.segmentation.structures import CHESTX_DET_TARGETS

    figures = []
    unet = SegmentationAnalyser.load(None, threads=threads)
    size = (radiograph.pixels.shape[1], radiograph.pixels.shape[0])
    figures.append(
        time_network(
            f"segmentation U-Net {unet.card.input_size}²",
            runtime_of(unet),
            lambda x: unet.segment(x, [size] * len(x)),
            load_network(unet.card, None),
            unet.prepare(unet.card, radiograph)[np.newaxis],
        )
    )

    # The PSPNet as imported from ChestX-Det (its architecture and size; seeded weights).
    pspnet_card = SegmentationCard(
        name="pspnet-bench",
        version="bench",
        architecture={"name": "pspnet", "block_config": list(PUBLISHED_BLOCK_CONFIG)},
        structures=tuple(canonical for _, canonical in CHESTX_DET_TARGETS),
        input_size=512,
        preprocessing=imagenet_preprocessing(),
        trained=False,
    )
    pspnet_dir = scratch / "pspnet-bench"
    pspnet_model = build_network(pspnet_card)
    save_network(pspnet_model, pspnet_dir, pspnet_card)
    pspnet = SegmentationAnalyser.load(pspnet_dir, threads=threads)
    figures.append(
        time_network(
            f"PSPNet 512² (blocks {list(PUBLISHED_BLOCK_CONFIG)})",
            runtime_of(pspnet),
            lambda x: pspnet.segment(x, [size] * len(x)),
            pspnet_model,
            pspnet.prepare(pspnet.card, radiograph)[np.newaxis],
        )
    )
    # The PSPNet's 270 MB of weights and its Keras twin are not kept beside the other networks.
    pspnet = pspnet_model = None

    screener = ScreenerAnalyser.load(None, threads=threads)
    card = screener.card
    figures.append(
        time_network(
            f"screener {card.architecture} {card.input_size}²",
            runtime_of(screener),
            screener.score,
            build_screener(card.architecture, card.input_size, card.input_channels),
            screener.prepare(card, radiograph)[np.newaxis],
        )
    )

    ct = CTAnalyser.load(None, threads=threads)
    side = ct.card.input_size
    # One slice of air and tissue in Hounsfield units, as a CT series' slice would be.
    hounsfield = np.linspace(-1000, 400, side * side, dtype=np.float32).reshape(1, side, side)
    slices = network_slices_uint8(hounsfield, ct.card.window, side)
    figures.append(
        time_network(
            f"CT ResNet-18 {side}² (a slice)",
            runtime_of(ct),
            ct.score_grey_levels,
            build_resnet18(side, ct.card.base_filters),
            slices,
        )
    )
    return figures


def worker_study_ms(pipeline: Any, prepared: Any, kinds: tuple[str, ...]) -> float:
    """A worker's milliseconds for a study taken in by the web process: findings, heatmaps, analysers."""

    def study() -> None:
        pipeline.run("classifier", [prepared])[0].attachment()
        for kind in kinds:
            pipeline.run(kind, [prepared])

    return median_ms(study)


COLD_WORKER = """
import json, sys, time
started = float(sys.argv[1])
from ml.analysers import BESIDE_THE_CLASSIFIER, AnalyserWeights
from ml.pipeline import Pipeline
weights = AnalyserWeights(kinds=BESIDE_THE_CLASSIFIER)
pipeline = Pipeline(sys.argv[2] or None, threads=int(sys.argv[3]), analysers=weights)
pipeline.build()
built = time.time() - started
image = pipeline.radiograph_intake(open(sys.argv[4], "rb").read()).prepared
pipeline.run("classifier", [image])[0].attachment()
for kind in BESIDE_THE_CLASSIFIER:
    pipeline.run(kind, [image])
done = time.time() - started
rss = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS:"))
print(json.dumps({"built_s": built, "first_study_s": done, "rss_mib": rss / 1024}))
"""


def cold_worker(weights_dir: Path | None, image: Path, threads: int) -> dict[str, float]:
    """A fresh process (as a worker process after its fork) building the classifier and every
    default analyser, then finishing one study; median of three runs, so caches are warm."""
    runs = []
    for _ in range(3):
        command = [sys.executable, "-c", COLD_WORKER, repr(time.time()), str(weights_dir or "")]
        command += [str(threads), str(image)]
        output = subprocess.run(command, check=True, timeout=600, capture_output=True, text=True).stdout
        runs.append(json.loads(output.strip().splitlines()[-1]))
    return {key: round(statistics.median(run[key] for run in runs), 2) for key in runs[0]}


def print_networks(figures: list[NetworkFigures]) -> None:
    width = max(len(figure.name) for figure in figures)
    columns = f"runtime  {'1 image ms':>10}  {f'batch {BATCH} ms':>10}  {'Keras 1':>8}  Keras {BATCH}"
    print(f"{'network':<{width}}  {columns}")
    for figure in figures:
        print(
            f"{figure.name:<{width}}  {figure.runtime:<7}  {figure.analyser_ms:10.1f}  "
            f"{figure.analyser_batch_ms:10.1f}  {figure.keras_ms:8.1f}  {figure.keras_batch_ms:.1f}"
        )
