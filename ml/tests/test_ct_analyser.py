"""The CT analyser without weights (the full-size seeded ResNet-18), its card, and ``predict-ct``."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from conftest import run_ml
from ct_writers import ct_slice

from ml.cli_options import UNTRAINED_WARNING
from ml.ct.analyser import CT_WEIGHTS_ENV_VAR, CTAnalyser, describe_ct_model
from ml.ct.card import CTModelCard
from ml.ct.series import read_ct_series
from ml.errors import WeightsError

# ResNet-18's trainable weights for one grey channel and one output (torchvision's 11,689,512
# less 2 of the 3 input channels' stem filters and 999 of the 1000 outputs).
RESNET18_GREY_ONE_OUTPUT = 11_689_512 - 2 * 64 * 7 * 7 - 999 * 513


def series_zip(modality: str = "CT") -> bytes:
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(3):
            stored = rng.integers(0, 1200, (64, 64))
            archive.writestr(f"{index}.dcm", ct_slice(stored, z=float(index), modality=modality))
    return buffer.getvalue()


def test_untrained_analyser_is_the_seeded_full_size_resnet18_and_says_so():
    card = describe_ct_model(None)
    assert (card.kind, card.trained, card.input_size, card.base_filters) == ("ct", False, 224, 64)
    assert card.version.endswith("-untrained-seed0")
    from ml.ct.network import load_ct_network

    trainable = sum(int(np.prod(weight.shape)) for weight in load_ct_network(card, None).trainable_weights)
    assert trainable == RESNET18_GREY_ONE_OUTPUT
    analyser = CTAnalyser.load(None, threads=1)
    series = read_ct_series(series_zip())
    result = analyser.score(series)
    assert len(result.slice_probabilities) == 3 and all(0 < p < 1 for p in result.slice_probabilities)
    assert result.to_dict()["aggregation"] == "mean" and result.threshold == 0.5
    again = CTAnalyser.load(None, threads=1).score(series)
    assert again.slice_probabilities == pytest.approx(result.slice_probabilities, abs=1e-6)


def test_predict_ct_warns_that_the_model_is_untrained(tmp_path):
    path = tmp_path / "series.zip"
    path.write_bytes(series_zip())
    completed = run_ml("predict-ct", path, "--json", "--strip", tmp_path / "strips")
    assert completed.returncode == 0, completed.stderr
    assert UNTRAINED_WARNING in completed.stderr
    answer = json.loads(completed.stdout)
    assert answer["model"]["trained"] is False and answer["model"]["version"].endswith("-untrained-seed0")
    assert answer["series"][0]["slices"] == 3
    assert (tmp_path / "strips" / "series.png").read_bytes().startswith(b"\x89PNG")


def test_predict_ct_refuses_a_series_that_is_not_ct_in_one_line(tmp_path):
    path = tmp_path / "mr.zip"
    path.write_bytes(series_zip("MR"))
    completed = run_ml("predict-ct", path)
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [
        f"error: {path}: Slice 1 is not a CT image (its modality is MR)."
    ]


def test_ct_card_refuses_unknown_fields_and_a_weights_file_that_changed(tmp_path):
    card = CTModelCard(name="ct", version="1", trained=True, weights_sha256="0" * 64)
    card.save(tmp_path / "card.json")
    (tmp_path / "model.weights.h5").write_bytes(b"not these weights")
    with pytest.raises(WeightsError, match="changed or replaced"):
        describe_ct_model(tmp_path)
    (tmp_path / "card.json").write_text(json.dumps({**card.to_dict(), "colour": "rgb"}))
    with pytest.raises(WeightsError, match="unknown field"):
        describe_ct_model(tmp_path)


def test_ct_weights_directory_comes_from_its_own_environment_variable():
    assert CT_WEIGHTS_ENV_VAR == "CXR_CT_WEIGHTS"
    assert CTModelCard.weights_dir_from_env({CT_WEIGHTS_ENV_VAR: " /models/ct "}).as_posix() == "/models/ct"
    assert CTModelCard.weights_dir_from_env({}) is None
