"""Every network on the one engine: OpenVINO's output against the Keras forward, the cache, no TensorFlow.

Each network is built once in this session, in its real architecture at its smallest input,
with weights spread so that its outputs are far from zero and its sigmoid far from flat (the
untrained U-Net's logits are about 1e-4: a 1e-4 bound on them would prove nothing). Its
analyser then loads it through the engine, which converts it in a child process into this
session's cache, and its output on real radiographs (CT: the synthetic series) must equal
the Keras forward's within ``ATOL``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import numpy as np
import pytest
from pspnet_reference import random_state

from ml.cards.files import CARD_FILENAME, WEIGHTS_FILENAME, sha256_file
from ml.ct.analyser import CTAnalyser
from ml.ct.card import CTModelCard, describe_ct_model
from ml.ct.network import load_ct_network
from ml.ct.series import read_ct_series
from ml.ct.synthetic import shuffled_series_zip
from ml.ct.window import network_slices
from ml.engine.cache import MODEL_FILE, WEIGHTS_FILE
from ml.engine.compiled import CompiledNetwork, convert_missing
from ml.engine.source import NetworkSource
from ml.images.decoding import decode_radiograph
from ml.images.radiograph import Radiograph
from ml.screener.analyser import ScreenerAnalyser
from ml.screener.card import ScreenerCard, screener_preprocessing
from ml.screener.network import load_screener_network
from ml.segmentation.analyser import (
    SegmentationAnalyser,
)
from ml.segmentation.card import (
    SegmentationCard,
    describe_segmentation_model,
    imagenet_preprocessing,
    untrained_unet_card,
)
from ml.segmentation.network import build_network, save_network
from ml.segmentation.pspnet import assign_pspnet_weights
from ml.segmentation.pspnet_layout import pspnet_layout
from ml.segmentation.structures import CHESTX_DET_TARGETS

# float32 throughout; OpenVINO sums in another order than TensorFlow, so the outputs differ
# by rounding, far below this.
ATOL = 1e-4
# The PSPNet's bound, relative to its largest logit: float32's epsilon (1.2e-7) times 64.
# A dilated ResNet sums thousands of products per output through some 30 layers; summed in
# another order, each sum's rounding differs by a few epsilon of its magnitude, and those
# differences add up over the layers. 64 epsilon of the largest logit is that rounding with
# room to spare, and some thousand times below any difference a wrong layer makes.
PSPNET_RELATIVE_BOUND = 64 * float(np.finfo(np.float32).eps)
REDUCED_BLOCKS = (1, 2, 1, 1)
# The U-Net's logits are its output: of this size, a 1e-4 bound on them is a real one.
LOGIT_SCALE = 3.0
# A probability's logit of at most this size keeps its sigmoid on the steep part, where a
# difference in the logit shows in the probability.
PROBABILITY_LOGIT_SCALE = 1.0


@dataclass(frozen=True)
class Built:
    """A network's weights directory, the inputs it was run on, and the Keras forward's outputs."""

    directory: Path
    inputs: np.ndarray
    keras_outputs: np.ndarray


@pytest.fixture(scope="session")
def radiographs(nih_pngs: list[Path]) -> list[Radiograph]:
    return [decode_radiograph(path.read_bytes()) for path in nih_pngs[:2]]


def spread_weights(
    model: keras.Model, logits_layer: str, inputs: np.ndarray, seed: int, scale: float = LOGIT_SCALE
) -> None:
    """Give batch normalisation varied statistics and scale the largest logit to ``scale``."""
    rng = np.random.default_rng(seed)
    draws = {
        "gamma": lambda n: rng.uniform(0.5, 1.5, n),
        "beta": lambda n: rng.normal(0.0, 0.1, n),
        "moving_mean": lambda n: rng.normal(0.0, 0.1, n),
        "moving_variance": lambda n: rng.uniform(0.5, 1.5, n),
    }
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            # InceptionV3's batch normalisation has no gamma: each layer has its own set.
            for variable in layer.weights:
                variable.assign(draws[variable.name](variable.shape[0]).astype(np.float32))
    logits = keras.Model(model.input, model.get_layer(logits_layer).output)
    largest = float(np.abs(np.asarray(logits(inputs, training=False))).max())
    layer = model.get_layer(logits_layer)
    layer.set_weights([weight * (scale / largest) for weight in layer.get_weights()])


def keras_forward(model: keras.Model, inputs: np.ndarray) -> np.ndarray:
    return np.asarray(model(inputs, training=False), dtype=np.float32)


@pytest.fixture(scope="session")
def unet(tmp_path_factory: pytest.TempPathFactory, radiographs: list[Radiograph]) -> Built:
    card = replace(untrained_unet_card(input_size=64), trained=True, version="engine-test")
    model = build_network(card)
    inputs = np.stack([SegmentationAnalyser.prepare(card, radiograph) for radiograph in radiographs])
    spread_weights(model, "segmentation_logits", inputs, seed=1)
    directory = tmp_path_factory.mktemp("unet")
    save_network(model, directory, card)
    return Built(directory, inputs, keras_forward(model, inputs))


@pytest.fixture(scope="session")
def pspnet(tmp_path_factory: pytest.TempPathFactory, radiographs: list[Radiograph]) -> Built:
    structures = tuple(canonical for _, canonical in CHESTX_DET_TARGETS)
    card = SegmentationCard(
        name="pspnet-engine-test",
        version="engine-test",
        architecture={"name": "pspnet", "block_config": list(REDUCED_BLOCKS)},
        structures=structures,
        input_size=64,
        preprocessing=imagenet_preprocessing(),
        trained=True,
    )
    model = build_network(card)
    layout = pspnet_layout(len(structures), REDUCED_BLOCKS)
    assign_pspnet_weights(model, layout, random_state(layout.state_shapes(), seed=2))
    inputs = np.stack([SegmentationAnalyser.prepare(card, radiograph) for radiograph in radiographs])
    directory = tmp_path_factory.mktemp("pspnet")
    save_network(model, directory, card)
    return Built(directory, inputs, keras_forward(model, inputs))


def _screener(
    tmp_path_factory: pytest.TempPathFactory, radiographs: list[Radiograph], architecture: str, size: int
) -> Built:
    card = ScreenerCard(
        name=f"{architecture}-engine-test",
        version="engine-test",
        architecture=architecture,
        input_size=size,
        input_channels=1,
        preprocessing=screener_preprocessing(size, 1),
        threshold=0.5,
        target_sensitivity=0.95,
        trained=True,
    )
    model = load_screener_network(card, None)
    inputs = np.stack([ScreenerAnalyser.prepare(card, radiograph) for radiograph in radiographs])
    spread_weights(model, "screener_logits", inputs, seed=3, scale=PROBABILITY_LOGIT_SCALE)
    directory = tmp_path_factory.mktemp(architecture)
    model.save_weights(directory / WEIGHTS_FILENAME)
    replace(card, weights_sha256=sha256_file(directory / WEIGHTS_FILENAME)).save(directory / CARD_FILENAME)
    return Built(directory, inputs, keras_forward(model, inputs))


@pytest.fixture(scope="session")
def inception_screener(tmp_path_factory: pytest.TempPathFactory, radiographs: list[Radiograph]) -> Built:
    return _screener(tmp_path_factory, radiographs, "inceptionv3", 75)


@pytest.fixture(scope="session")
def elu_screener(tmp_path_factory: pytest.TempPathFactory, radiographs: list[Radiograph]) -> Built:
    return _screener(tmp_path_factory, radiographs, "elu-cnn", 32)


@pytest.fixture(scope="session")
def ct_series_bytes() -> bytes:
    return shuffled_series_zip(4, rows=40, columns=48)[0]


@pytest.fixture(scope="session")
def ct_resnet(tmp_path_factory: pytest.TempPathFactory, ct_series_bytes: bytes) -> Built:
    card = CTModelCard(name="resnet18-engine-test", version="engine-test", trained=True, input_size=64)
    model = load_ct_network(card, None)
    inputs = network_slices(read_ct_series(ct_series_bytes).hounsfield, card.window, card.input_size)
    spread_weights(model, "ct_logits", inputs, seed=4, scale=PROBABILITY_LOGIT_SCALE)
    directory = tmp_path_factory.mktemp("ct")
    model.save_weights(directory / WEIGHTS_FILENAME)
    card.save(directory / CARD_FILENAME)
    return Built(directory, inputs, keras_forward(model, inputs))


@pytest.fixture(scope="session")
def warm_cache(
    unet: Built, pspnet: Built, inception_screener: Built, elu_screener: Built, ct_resnet: Built
) -> list[str]:
    """Every network converted into the session's cache by one child process (one TensorFlow import)."""
    sources = [
        SegmentationAnalyser.source_of(describe_segmentation_model(unet.directory), unet.directory),
        SegmentationAnalyser.source_of(describe_segmentation_model(pspnet.directory), pspnet.directory),
        screener_source(inception_screener),
        screener_source(elu_screener),
        CTAnalyser.source_of(describe_ct_model(ct_resnet.directory), ct_resnet.directory),
    ]
    return convert_missing(sources)


def screener_source(built: Built) -> NetworkSource:
    card = ScreenerCard.describe(built.directory)
    return ScreenerAnalyser.source_of(card, built.directory)


def test_unet_on_openvino_equals_its_keras_forward_on_real_radiographs(
    unet: Built, warm_cache: list[str]
) -> None:
    analyser = SegmentationAnalyser.load(unet.directory, threads=2, backend="openvino")
    assert analyser.backend == "openvino-f32"
    assert np.abs(unet.keras_outputs).max() > 1.0
    np.testing.assert_allclose(analyser.logits(unet.inputs), unet.keras_outputs, rtol=0, atol=ATOL)


def test_reduced_pspnet_on_openvino_equals_its_keras_forward_within_float32_rounding(
    pspnet: Built, warm_cache: list[str]
) -> None:
    analyser = SegmentationAnalyser.load(pspnet.directory, threads=2, backend="openvino")
    bound = PSPNET_RELATIVE_BOUND * float(np.abs(pspnet.keras_outputs).max())
    np.testing.assert_allclose(analyser.logits(pspnet.inputs), pspnet.keras_outputs, rtol=0, atol=bound)


@pytest.mark.parametrize("screener", ["inception_screener", "elu_screener"])
def test_screener_on_openvino_equals_its_keras_forward_on_real_radiographs(
    screener: str, request: pytest.FixtureRequest, warm_cache: list[str]
) -> None:
    built: Built = request.getfixturevalue(screener)
    analyser = ScreenerAnalyser.load(built.directory, threads=2, backend="openvino")
    probabilities = [result.probability for result in analyser.score(built.inputs)]
    assert analyser.backend == "openvino-f32" and np.all(np.abs(built.keras_outputs - 0.5) < 0.25)
    np.testing.assert_allclose(probabilities, built.keras_outputs[:, 0], rtol=0, atol=ATOL)


def test_ct_resnet18_on_openvino_equals_its_keras_forward_on_the_synthetic_series(
    ct_resnet: Built, ct_series_bytes: bytes, warm_cache: list[str]
) -> None:
    analyser = CTAnalyser.load(ct_resnet.directory, threads=2, backend="openvino")
    assert analyser.backend == "openvino-f32" and np.all(np.abs(ct_resnet.keras_outputs - 0.5) < 0.25)
    slices = analyser.score_slices(read_ct_series(ct_series_bytes).hounsfield)
    np.testing.assert_allclose(slices, ct_resnet.keras_outputs[:, 0], rtol=0, atol=ATOL)


def converted_elu(elu_screener: Built, cache: Path) -> CompiledNetwork:
    """The ELU CNN converted into ``cache`` by a load of its own."""
    network = CompiledNetwork.load(screener_source(elu_screener), threads=1, cache_dir=cache)
    assert network.converted
    return network


def test_a_second_load_reads_the_cache_without_converting(
    elu_screener: Built, warm_cache: list[str], model_cache: Path
) -> None:
    second = CompiledNetwork.load(screener_source(elu_screener), threads=1)
    assert not second.converted
    assert {path.name for path in (model_cache / second.key).iterdir()} == {
        "manifest.json",
        MODEL_FILE,
        WEIGHTS_FILE,
    }
    np.testing.assert_allclose(second.run(elu_screener.inputs), elu_screener.keras_outputs, rtol=0, atol=ATOL)


def test_a_damaged_cache_file_is_converted_again_not_trusted(elu_screener: Built, tmp_path: Path) -> None:
    source = screener_source(elu_screener)
    key = converted_elu(elu_screener, tmp_path).key
    weights = tmp_path / key / WEIGHTS_FILE
    damaged = bytearray(weights.read_bytes())
    # Same size, other numbers: only the manifest's hash tells.
    damaged[len(damaged) // 2 : len(damaged) // 2 + 64] = bytes(64)
    weights.write_bytes(bytes(damaged))
    again = CompiledNetwork.load(source, threads=1, cache_dir=tmp_path)
    assert again.converted and again.key == key
    np.testing.assert_allclose(again.run(elu_screener.inputs), elu_screener.keras_outputs, rtol=0, atol=ATOL)
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")], "staging folders were left"


def test_other_weights_or_another_architecture_get_another_key_and_the_folder_does_not_count(
    elu_screener: Built,
) -> None:
    source = screener_source(elu_screener)
    key = source.cache_key("2026.4.1")
    other_weights = replace(source, identity={**source.identity, "weights_sha256": "0" * 64})
    other_size = replace(source, identity={**source.identity, "input_size": 64})
    moved = replace(source, arguments={**source.arguments, "weights_dir": "/elsewhere"})
    assert other_weights.cache_key("2026.4.1") != key and other_size.cache_key("2026.4.1") != key
    assert source.cache_key("2026.5.0") != key
    assert moved.cache_key("2026.4.1") == key


ANALYSE_WITHOUT_TENSORFLOW = """
import json, sys
import numpy as np
from ml.screener.analyser import ScreenerAnalyser
from ml.ct.analyser import CTAnalyser
from ml.ct.series import read_ct_series
from ml.images.decoding import decode_radiograph
from ml.segmentation.analyser import SegmentationAnalyser

request = json.loads(sys.argv[1])
radiograph = decode_radiograph(open(request["radiograph"], "rb").read())
size = [(radiograph.width, radiograph.height)]
answers = {}
for name in ("unet", "pspnet"):
    analyser = SegmentationAnalyser.load(request[name])
    (segmentation,) = analyser.segment(analyser.prepare(analyser.card, radiograph)[np.newaxis], size)
    answers[name] = [analyser.backend, int(segmentation.masks.sum())]
for name in ("inception_screener", "elu_screener"):
    analyser = ScreenerAnalyser.load(request[name])
    (result,) = analyser.score(analyser.prepare(analyser.card, radiograph)[np.newaxis])
    answers[name] = [analyser.backend, result.probability]
analyser = CTAnalyser.load(request["ct_resnet"])
series = read_ct_series(open(request["ct"], "rb").read())
answers["ct_resnet"] = [analyser.backend, analyser.score(series).patient_probability]
answers["tensorflow_imported"] = "tensorflow" in sys.modules
print(json.dumps(answers))
"""


def test_every_analyser_loads_and_analyses_from_a_warm_cache_without_importing_tensorflow(
    request: pytest.FixtureRequest,
    model_cache: Path,
    radiograph_path: Path,
    ct_series_bytes: bytes,
    tmp_path: Path,
) -> None:
    names = ("unet", "pspnet", "inception_screener", "elu_screener", "ct_resnet")
    built: dict[str, Built] = {name: request.getfixturevalue(name) for name in names}
    # Warms the cache for every network, as a worker's start would.
    SegmentationAnalyser.load(built["unet"].directory, threads=1)
    SegmentationAnalyser.load(built["pspnet"].directory, threads=1)
    ScreenerAnalyser.load(built["inception_screener"].directory, threads=1)
    ScreenerAnalyser.load(built["elu_screener"].directory, threads=1)
    CTAnalyser.load(built["ct_resnet"].directory, threads=1)
    entries = sorted(
        (path.name, (path / "manifest.json").stat().st_mtime_ns)
        for path in model_cache.iterdir()
        if path.is_dir()
    )
    series = tmp_path / "series.zip"
    series.write_bytes(ct_series_bytes)
    arguments = {name: str(value.directory) for name, value in built.items()}
    arguments.update(radiograph=str(radiograph_path), ct=str(series))
    completed = subprocess.run(
        [sys.executable, "-c", ANALYSE_WITHOUT_TENSORFLOW, json.dumps(arguments)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CXR_BACKEND": "openvino"},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    answers = json.loads(completed.stdout.strip().splitlines()[-1])
    assert answers.pop("tensorflow_imported") is False
    assert all(backend == "openvino-f32" for backend, _ in answers.values())
    after = sorted(
        (path.name, (path / "manifest.json").stat().st_mtime_ns)
        for path in model_cache.iterdir()
        if path.is_dir()
    )
    assert after == entries, "the analysing process converted a network instead of reading the cache"
