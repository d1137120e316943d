"""Shared fixtures: the real radiographs and one untrained engine per test session."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from ml.imaging import Radiograph, decode_radiograph

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_ENV_VAR = "CXR_DATA_DIR"


def cxr_data_dir() -> Path:
    """The shared test radiographs: $CXR_DATA_DIR, else ../shared/data/cxr beside the repository."""
    override = os.environ.get(DATA_ENV_VAR, "").strip()
    return Path(override) if override else (REPO_ROOT / ".." / "shared" / "data" / "cxr").resolve()


def nih_png_paths() -> list[Path]:
    paths = sorted((cxr_data_dir() / "nih").glob("*.png"))
    if not paths:
        # Failing (not skipping) keeps a missing data directory from passing as a green run.
        pytest.fail(
            f"No NIH radiographs under {cxr_data_dir() / 'nih'}; set ${DATA_ENV_VAR} to the cxr data."
        )
    return paths


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


@pytest.fixture(scope="session")
def untrained_engine():
    # Imported here so that the TensorFlow-free tests never pay for importing TensorFlow.
    from ml.engine import InferenceEngine

    return InferenceEngine.load(None)
