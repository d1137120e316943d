"""The command line, run as a user would: ``python -m ml ...`` in a subprocess."""

from __future__ import annotations

import json

from conftest import run_ml
from PIL import Image

from ml.classifier.postprocess import calibrated_score
from ml.labels import CHESTXRAY14_LABELS


def test_predict_json_with_heatmaps_on_a_real_radiograph(radiograph_path, tmp_path):
    result = run_ml("predict", radiograph_path, "--json", "--heatmaps", tmp_path / "maps")
    assert result.returncode == 0, result.stderr
    assert "UNTRAINED MODEL — not for clinical use" in result.stderr
    output = json.loads(result.stdout)
    assert output["model"]["trained"] is False
    assert len(output["model"]["weights_sha256"]) == 64
    (image,) = output["images"]
    assert image["path"] == str(radiograph_path)
    findings = image["findings"]
    assert sorted(finding["label"] for finding in findings) == sorted(CHESTXRAY14_LABELS)
    probabilities = [finding["probability"] for finding in findings]
    assert probabilities == sorted(probabilities, reverse=True)
    for finding in findings:
        assert set(finding) == {"label", "probability", "threshold", "positive", "calibrated_score"}
        assert finding["positive"] == (finding["probability"] >= finding["threshold"])
        assert finding["calibrated_score"] == calibrated_score(finding["probability"], finding["threshold"])
    assert image["screening"]["orientation"] == "upright"
    written = sorted((tmp_path / "maps" / radiograph_path.stem).glob("*.png"))
    assert [path.stem for path in written] == sorted(CHESTXRAY14_LABELS)
    with Image.open(written[0]) as heatmap:
        assert heatmap.mode == "RGBA" and heatmap.size == (1024, 1024)


def test_predict_table_lists_every_finding(radiograph_path):
    result = run_ml("predict", radiograph_path)
    assert result.returncode == 0, result.stderr
    assert "probability" in result.stdout and "threshold" in result.stdout
    assert all(label in result.stdout for label in CHESTXRAY14_LABELS)


def test_predict_missing_file_exits_2_with_one_line(tmp_path):
    result = run_ml("predict", tmp_path / "absent.png")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: {tmp_path / 'absent.png'}: no such file."]


def test_predict_undecodable_image_exits_2(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n but then nothing sensible")
    result = run_ml("predict", bad)
    assert result.returncode == 2
    assert "bad.png" in result.stderr and "PNG, JPEG or DICOM" in result.stderr


def test_predict_with_a_bad_weights_directory_exits_2(radiograph_path, tmp_path):
    missing = tmp_path / "missing"
    for result in (
        run_ml("predict", radiograph_path, "--weights", missing),
        run_ml("predict", radiograph_path, env_extra={"CXR_WEIGHTS": str(missing)}),
    ):
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1
        assert "does not exist" in result.stderr


def test_card_json_prints_the_untrained_card():
    result = run_ml("card", "--json")
    assert result.returncode == 0, result.stderr
    card = json.loads(result.stdout)
    assert card["trained"] is False and "untrained" in card["version"]
    assert "UNTRAINED MODEL" in result.stderr
