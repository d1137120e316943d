"""``python -m ml explain``: one finding by each method with its scores; bad requests exit 2 at once."""

from __future__ import annotations

import json

from conftest import run_ml
from PIL import Image

from ml.cli import UNTRAINED_WARNING


def test_explain_json_scores_the_method_and_writes_its_overlay_at_the_radiographs_size(
    radiograph_path, tmp_path
):
    completed = run_ml(
        "explain",
        radiograph_path,
        "--label",
        "Effusion",
        "--methods",
        "gradcam",
        "--json",
        "--out",
        tmp_path / "maps",
    )
    assert completed.returncode == 0, completed.stderr
    assert UNTRAINED_WARNING in completed.stderr
    document = json.loads(completed.stdout)
    assert document["model"]["trained"] is False and document["label"] == "Effusion"
    assert [row["method"] for row in document["explanations"]] == ["gradcam"]
    for row in document["explanations"]:
        assert 0.0 <= row["deletion_auc"] <= 1.0 and 0.0 <= row["insertion_auc"] <= 1.0
    assert document["explanations"][0]["parameters"]["faithfulness"]["steps"] == 16
    size = Image.open(radiograph_path).size
    assert Image.open(tmp_path / "maps" / "gradcam.png").size == size


def test_explain_refuses_an_unknown_finding_or_method_with_one_line_and_status_2(radiograph_path, tmp_path):
    for arguments, message in (
        (("--label", "Broken_Leg"), "no finding 'Broken_Leg'"),
        (("--label", "Effusion", "--methods", "gradcam,lime"), "Unknown method(s) lime"),
    ):
        completed = run_ml("explain", radiograph_path, *arguments, "--out", tmp_path / "maps")
        assert completed.returncode == 2
        assert completed.stderr.startswith("error: ") and message in completed.stderr
        assert len(completed.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "maps").exists()
