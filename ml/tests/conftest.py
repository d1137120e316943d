"""Shared fixtures: the real radiographs and one untrained engine per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from ml.images.decoding import decode_radiograph
from ml.images.radiograph import Radiograph

if TYPE_CHECKING:
    from ml.classifier.analyser import ClassifierResult
    from ml.classifier.engine import InferenceEngine

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_ENV_VAR = "CXR_DATA_DIR"


def cxr_data_dir() -> Path:
    """The shared test radiographs: $CXR_DATA_DIR, else ../shared/data/cxr beside the repository."""
    override = os.environ.get(DATA_ENV_VAR, "").strip()
    return Path(override) if override else (REPO_ROOT / ".." / "shared" / "data" / "cxr").resolve()


def run_ml(*arguments: object, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m ml ARGUMENTS`` in a fresh process, as a user types it."""
    # The suite's own environment must not choose the weights; tests that want some say so.
    env = {key: value for key, value in os.environ.items() if key != "CXR_WEIGHTS"}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "ml", *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def nih_png_paths() -> list[Path]:
    paths = sorted((cxr_data_dir() / "nih").glob("*.png"))
    if not paths:
        # Failing (not skipping) keeps a missing data directory from passing as a green run.
        pytest.fail(
            f"No NIH radiographs under {cxr_data_dir() / 'nih'}; set ${DATA_ENV_VAR} to the cxr data."
        )
    return paths


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The engine's cache of converted networks: one per session, unless $CXR_MODEL_CACHE names one.

    Set in the environment, so that the converter's child processes and any ``python -m ml``
    a test runs use it too.
    """
    from ml.engine.cache import CACHE_ENV_VAR

    configured = os.environ.get(CACHE_ENV_VAR, "").strip()
    if configured:
        return Path(configured)
    path = tmp_path_factory.mktemp("model-cache")
    os.environ[CACHE_ENV_VAR] = str(path)
    return path


@pytest.fixture(scope="session")
def nih_pngs() -> list[Path]:
    return nih_png_paths()


@pytest.fixture(scope="session")
def radiograph_path(nih_pngs: list[Path]) -> Path:
    # 00030012_000 is labelled Cardiomegaly|Effusion: a typical AP study with large findings.
    preferred = [path for path in nih_pngs if path.name == "00030012_000.png"]
    return preferred[0] if preferred else nih_pngs[0]


@pytest.fixture(scope="session")
def radiograph(radiograph_path: Path) -> Radiograph:
    return decode_radiograph(radiograph_path.read_bytes())


@pytest.fixture(scope="session")
def landscape_radiograph(radiograph: Radiograph) -> Radiograph:
    """A real radiograph cropped to 1024 wide x 800 high, to exercise non-square frames."""
    return Radiograph(pixels=np.ascontiguousarray(radiograph.pixels[112:912, :]), bit_depth=8)


def analyze(engine: InferenceEngine, radiograph: Radiograph) -> ClassifierResult:
    """One radiograph through the pipeline around ``engine`` (already screened, so not again)."""
    from ml.pipeline import Pipeline

    pipeline = Pipeline.for_engine(engine)
    return pipeline.run("classifier", [pipeline.prepare(radiograph)])[0]


@pytest.fixture(scope="session")
def untrained_engine():
    # Imported here so that the TensorFlow-free tests never pay for importing TensorFlow.
    from ml.classifier.engine import InferenceEngine

    return InferenceEngine.load(None)


@pytest.fixture(scope="session")
def torchxrayvision_state(radiograph: Radiograph):
    """Random DenseNet121 weights in torchxrayvision's layout (1 channel, 18 outputs).

    Their batch-norm statistics are calibrated on ``radiograph``, so on it the network's
    activations and logits lie in a natural range (see ``densenet_reference``).
    """
    from densenet_reference import random_state

    from ml.images.preprocessing import PreprocessingSpec, default_preprocessing, prepare_input

    image = prepare_input(radiograph, PreprocessingSpec.from_dict(default_preprocessing())).tensor
    return random_state(11, 1, 18, image.transpose(0, 3, 1, 2))


@pytest.fixture(scope="session")
def torchxrayvision_weights_dir(torchxrayvision_state, tmp_path_factory) -> Path:
    """Those weights saved as the published NIH file is (a legacy pickle), then imported."""
    from torch_writer import save_checkpoint, torchxrayvision_module

    from ml.classifier.importers import import_checkpoint

    folder = tmp_path_factory.mktemp("torchxrayvision")
    checkpoint = save_checkpoint(
        torchxrayvision_module(torchxrayvision_state),
        folder / "nih-densenet121-d121-tw-lr001-rot45-tr15-sc15-seed0-best.pt",
        legacy=True,
    )
    import_checkpoint(checkpoint, "torchxrayvision", folder / "weights")
    return folder / "weights"
