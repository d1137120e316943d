"""The analysers beside the classifier in the one pipeline (ml.analysers): inputs prepared at intake,
kept through the stored npz, run per analyser; the ratio only from a trained segmentation."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ml.analysers import (
    SCREENER,
    SEGMENTATION,
    UNTRAINED_SEGMENTATION_NOTE,
    Analysers,
    AnalyserWeights,
    segmentation_outcome,
)
from ml.errors import WeightsError
from ml.pipeline import Pipeline, PreparedImage
from ml.segmentation.card import describe_segmentation_model
from ml.segmentation.result import Segmentation

STRUCTURES = ("left_lung", "right_lung", "heart")


def drawn_segmentation(side: int = 100) -> Segmentation:
    """Lungs 30 pixels wide at columns 10-39 and 60-89 (thorax 80 wide), a heart at 35-64 (30 wide)."""
    masks = np.zeros((side, side, len(STRUCTURES)), dtype=bool)
    masks[20:80, 60:90, 0] = True  # the patient's left lung lies on the image's right
    masks[20:80, 10:40, 1] = True
    masks[50:70, 35:65, 2] = True
    return Segmentation(structures=STRUCTURES, masks=masks, width=side, height=side)


def test_a_trained_segmentation_measures_the_ratio_on_drawn_masks_with_its_lines():
    card = dataclasses.replace(describe_segmentation_model(None), trained=True)
    outcome = segmentation_outcome(card, drawn_segmentation(), "AP")
    ratio = outcome.result["cardiothoracic_ratio"]
    assert ratio["ratio"] == pytest.approx(30 / 80)
    assert ratio["heart_line"] == [[35, 50], [64, 50]]
    assert ratio["thorax_line"] == [[10, 20], [89, 20]]
    assert ratio["above_range"] is False and "AP" in ratio["caveat"]
    assert outcome.score == pytest.approx(30 / 80)
    assert outcome.result["cardiothoracic_ratio_note"] is None
    assert Segmentation.from_bytes(outcome.attachment).structures == STRUCTURES


def test_an_untrained_segmentation_gives_outlines_but_no_ratio_and_says_why():
    outcome = segmentation_outcome(describe_segmentation_model(None), drawn_segmentation(), "PA")
    assert outcome.card["trained"] is False
    assert outcome.result["cardiothoracic_ratio"] is None and outcome.score is None
    assert outcome.result["cardiothoracic_ratio_note"] == UNTRAINED_SEGMENTATION_NOTE


def test_a_trained_segmentation_without_a_heart_says_so_instead_of_a_ratio():
    card = dataclasses.replace(describe_segmentation_model(None), trained=True)
    drawn = drawn_segmentation()
    drawn.masks[:, :, 2] = False
    outcome = segmentation_outcome(card, drawn, None)
    assert outcome.result["cardiothoracic_ratio"] is None
    assert "no heart was found" in outcome.result["cardiothoracic_ratio_note"]


def test_intake_prepares_each_analysers_input_which_survives_storage_and_runs(radiograph_path: Path):
    pipeline = Pipeline(None, analysers=AnalyserWeights())
    intake = pipeline.intake(radiograph_path.read_bytes())
    stored = PreparedImage.from_bytes(intake.prepared.to_bytes())
    assert set(stored.analyser_inputs) == {SEGMENTATION, SCREENER}
    for kind, tensor in intake.prepared.analyser_inputs.items():
        np.testing.assert_array_equal(stored.analyser_inputs[kind], tensor)
    [screened] = pipeline.analyze_with(SCREENER, [stored])
    assert screened.card["trained"] is False and 0.0 <= screened.score <= 1.0
    assert screened.result["likely_abnormal"] == (
        screened.result["probability"] >= screened.result["threshold"]
    )
    [segmented] = pipeline.analyze_with(SEGMENTATION, [stored])
    assert segmented.result["cardiothoracic_ratio_note"] == UNTRAINED_SEGMENTATION_NOTE


def test_intake_with_the_analysers_imports_no_framework(radiograph_path: Path):
    # The web process takes every upload in through it.
    script = (
        "import sys; from ml.analysers import AnalyserWeights; from ml.pipeline import Pipeline; "
        f"Pipeline(None, analysers=AnalyserWeights()).intake(open({str(radiograph_path)!r}, 'rb').read()); "
        "print(sorted(m for m in ('tensorflow', 'keras', 'openvino') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_an_unusable_analyser_directory_never_refuses_an_upload_but_its_run_says_why(
    radiograph_path: Path, tmp_path: Path
):
    (tmp_path / "card.json").write_text("{not json")
    pipeline = Pipeline(None, analysers=AnalyserWeights(segmentation=tmp_path))
    prepared = pipeline.intake(radiograph_path.read_bytes()).prepared
    assert set(prepared.analyser_inputs) == {SCREENER}
    with pytest.raises(WeightsError, match=r"model\.weights\.h5"):
        pipeline.analyze_with(SEGMENTATION, [prepared])


def test_unknown_analysers_are_refused():
    with pytest.raises(ValueError, match="Unknown analysers"):
        AnalyserWeights(kinds=("segmentation", "tarot"))


def test_load_all_converts_every_configured_network_into_the_cache_before_any_study(model_cache: Path):
    import openvino as ov

    from ml.abnormality.analyser import AbnormalityScreener
    from ml.segmentation.analyser import SegmentationAnalyser

    Analysers(AnalyserWeights(), threads=1).load_all()
    for analyser in (SegmentationAnalyser, AbnormalityScreener):
        key = analyser.network_source(None).cache_key(ov.get_version())
        assert (model_cache / key / "manifest.json").is_file()
