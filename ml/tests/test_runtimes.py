"""The OpenVINO runtime the service uses on a CPU against the Keras reference it is held to."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import analyze

from ml.classifier.engine import InferenceEngine
from ml.engine.backend import BACKEND_ENV_VAR, resolve_backend
from ml.images.decoding import decode_radiograph
from ml.images.preprocessing import PreprocessingSpec, prepare_input

# Every runtime must give the Keras model's probabilities to within this, on every radiograph.
PROBABILITY_TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def engines(torchxrayvision_weights_dir):
    return {
        backend: InferenceEngine.load(torchxrayvision_weights_dir, threads=2, backend=backend)
        for backend in ("keras", "openvino")
    }


@pytest.fixture(scope="module")
def shared_inputs(nih_pngs, engines):
    spec = PreprocessingSpec.from_dict(engines["keras"].card.preprocessing)
    return np.concatenate(
        [prepare_input(decode_radiograph(path.read_bytes()), spec).tensor for path in nih_pngs]
    )


def test_openvino_gives_the_keras_probabilities_and_maps_on_every_shared_radiograph(engines, shared_inputs):
    assert engines["openvino"].backend == "openvino-f32"
    assert engines["keras"].backend == "keras-tensorflow"
    reference_probabilities, reference_maps = engines["keras"].explain(shared_inputs)
    probabilities, maps = engines["openvino"].explain(shared_inputs)
    assert probabilities.shape == reference_probabilities.shape == (18, 14)
    assert np.abs(probabilities - reference_probabilities).max() <= PROBABILITY_TOLERANCE
    assert np.abs(maps - reference_maps).max() <= 1e-4
    # Different radiographs give different answers: the comparison is not of constants.
    assert np.ptp(reference_probabilities, axis=0).max() > 0.5


def test_analyses_agree_across_runtimes_including_heatmaps_at_the_radiograph_size(
    engines, landscape_radiograph
):
    keras_analysis = analyze(engines["keras"], landscape_radiograph)
    openvino_analysis = analyze(engines["openvino"], landscape_radiograph)
    assert list(openvino_analysis.probabilities) == list(keras_analysis.probabilities)
    for label, probability in keras_analysis.probabilities.items():
        assert abs(openvino_analysis.probabilities[label] - probability) <= PROBABILITY_TOLERANCE
        heatmap = openvino_analysis.heatmaps.at_radiograph_size(label)
        assert heatmap.shape == (800, 1024) and heatmap.dtype == np.float32
        assert np.abs(heatmap - keras_analysis.heatmaps.at_radiograph_size(label)).max() <= 1e-4


def test_weights_file_reader_gives_the_arrays_keras_loads(engines, torchxrayvision_weights_dir):
    from ml.cards.files import WEIGHTS_FILENAME
    from ml.classifier.h5 import read_densenet_weights
    from ml.classifier.network import densenet_weights

    read = read_densenet_weights(torchxrayvision_weights_dir / WEIGHTS_FILENAME, 1, 14)
    loaded = densenet_weights(engines["keras"].model)
    assert read.keys() == loaded.keys()
    for layer, arrays in loaded.items():
        for name, array in arrays.items():
            np.testing.assert_array_equal(read[layer][name], array, err_msg=f"{layer}/{name}")


def test_an_openvino_engine_builds_its_keras_model_on_demand(engines):
    from ml.classifier.architecture import weights_digest
    from ml.classifier.network import densenet_weights

    openvino, keras = (densenet_weights(engines[name].model) for name in ("openvino", "keras"))
    assert weights_digest(openvino, 1, 14) == weights_digest(keras, 1, 14)


def test_backend_choice(monkeypatch):
    monkeypatch.delenv(BACKEND_ENV_VAR, raising=False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert resolve_backend() == "openvino"
    monkeypatch.setenv(BACKEND_ENV_VAR, "keras")
    assert resolve_backend() == "keras"
    assert resolve_backend("openvino") == "openvino"
    monkeypatch.setenv(BACKEND_ENV_VAR, "onnx")
    with pytest.raises(ValueError, match=BACKEND_ENV_VAR):
        resolve_backend()


@pytest.mark.parametrize("weights", ["installed", "untrained"])
def test_a_worker_on_openvino_never_imports_tensorflow(weights, torchxrayvision_weights_dir, radiograph_path):
    weights_dir = str(torchxrayvision_weights_dir) if weights == "installed" else None
    code = (
        "import sys\n"
        "from ml.pipeline import Pipeline\n"
        f"pipeline = Pipeline({weights_dir!r}, threads=1)\n"
        f"result = pipeline(open({str(radiograph_path)!r}, 'rb').read())\n"
        "assert pipeline.engine.backend == 'openvino-f32' and len(result.findings) == 14\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow was imported'\n"
    )
    environment = {"CUDA_VISIBLE_DEVICES": "-1", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, env=environment)
