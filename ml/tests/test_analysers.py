"""Every model through the one analyser contract (ml.analyser) and its registry (ml.analysers): inputs
prepared at intake, kept through the stored npz, run per kind, results read back from their JSON; the
ratio only from a trained segmentation."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ml.analyser import CT_SERIES, RADIOGRAPH, read_result
from ml.analysers import REGISTRY, Analysers, AnalyserWeights
from ml.ct.analyser import CT_WEIGHTS_ENV_VAR
from ml.ct.card import CT_KIND
from ml.errors import WeightsError
from ml.pipeline import Pipeline
from ml.prepared import PreparedImage
from ml.screener.analyser import SCREENER
from ml.segmentation.analyser import (
    SEGMENTATION,
    UNTRAINED_SEGMENTATION_NOTE,
    SegmentationResult,
)
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
    outcome = SegmentationResult.of(card, drawn_segmentation(), "AP")
    ratio = outcome.to_dict()["cardiothoracic_ratio"]
    assert ratio["ratio"] == pytest.approx(30 / 80)
    assert ratio["heart_line"] == [[35, 50], [64, 50]]
    assert ratio["thorax_line"] == [[10, 20], [89, 20]]
    assert ratio["above_range"] is False and "AP" in ratio["caveat"]
    assert outcome.score == pytest.approx(30 / 80)
    assert outcome.to_dict()["cardiothoracic_ratio_note"] is None
    assert Segmentation.from_bytes(outcome.attachment()).structures == STRUCTURES
    # What is stored reads back as the same result (the masks are the attachment, kept beside it).
    again = SegmentationResult.from_dict(outcome.to_dict(), card)
    assert again.to_dict() == outcome.to_dict() and again.score == outcome.score


def test_an_untrained_segmentation_gives_outlines_but_no_ratio_and_says_why():
    outcome = SegmentationResult.of(describe_segmentation_model(None), drawn_segmentation(), "PA")
    assert outcome.card.trained is False
    assert outcome.cardiothoracic_ratio is None and outcome.score is None
    assert outcome.to_dict()["cardiothoracic_ratio_note"] == UNTRAINED_SEGMENTATION_NOTE


def test_a_trained_segmentation_without_a_heart_says_so_instead_of_a_ratio():
    card = dataclasses.replace(describe_segmentation_model(None), trained=True)
    drawn = drawn_segmentation()
    drawn.masks[:, :, 2] = False
    outcome = SegmentationResult.of(card, drawn, None)
    assert outcome.cardiothoracic_ratio is None
    assert "no heart was found" in outcome.to_dict()["cardiothoracic_ratio_note"]


def test_intake_prepares_each_analysers_input_which_survives_storage_and_runs(radiograph_path: Path):
    pipeline = Pipeline(None, analysers=AnalyserWeights(kinds=(SEGMENTATION, SCREENER, CT_KIND)))
    intake = pipeline.radiograph_intake(radiograph_path.read_bytes())
    stored = PreparedImage.from_bytes(intake.prepared.to_bytes())
    # Every kind that reads a radiograph gets its input; the CT analyser reads series only.
    assert set(stored.inputs) == {"classifier", SEGMENTATION, SCREENER}
    for kind, tensor in intake.prepared.inputs.items():
        np.testing.assert_array_equal(stored.inputs[kind], tensor)
    assert stored.input_keys == intake.prepared.input_keys
    [screened] = pipeline.run(SCREENER, [stored])
    assert screened.card.trained is False and 0.0 <= screened.score <= 1.0
    assert screened.likely_abnormal == (screened.probability >= screened.threshold)
    assert read_result(REGISTRY[SCREENER], screened.to_dict(), screened.card.to_dict()) == screened
    [segmented] = pipeline.run(SEGMENTATION, [stored])
    assert segmented.to_dict()["cardiothoracic_ratio_note"] == UNTRAINED_SEGMENTATION_NOTE


def test_intake_with_the_analysers_imports_no_framework(radiograph_path: Path):
    # The web process takes every upload in through it.
    script = (
        "import sys; from ml.analysers import REGISTRY, AnalyserWeights; from ml.pipeline import Pipeline; "
        "weights = AnalyserWeights(kinds=tuple(REGISTRY)); "
        f"Pipeline(None, analysers=weights).intake(open({str(radiograph_path)!r}, 'rb').read()); "
        "print(sorted(m for m in ('tensorflow', 'keras', 'openvino') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_an_unusable_analyser_directory_never_refuses_an_upload_but_its_run_says_why(
    radiograph_path: Path, tmp_path: Path
):
    (tmp_path / "card.json").write_text("{not json")
    weights = AnalyserWeights(kinds=(SEGMENTATION, SCREENER), directories={SEGMENTATION: tmp_path})
    pipeline = Pipeline(None, analysers=weights)
    prepared = pipeline.radiograph_intake(radiograph_path.read_bytes()).prepared
    assert set(prepared.inputs) == {"classifier", SCREENER}
    with pytest.raises(WeightsError, match=r"model\.weights\.h5"):
        pipeline.run(SEGMENTATION, [prepared])


def test_an_input_prepared_for_another_card_is_refused_not_fed_to_the_network(radiograph_path: Path):
    pipeline = Pipeline(None, analysers=AnalyserWeights(kinds=(SCREENER,)))
    prepared = pipeline.radiograph_intake(radiograph_path.read_bytes()).prepared
    stale = dataclasses.replace(prepared, input_keys={**prepared.input_keys, SCREENER: "0" * 16})
    with pytest.raises(ValueError, match="not prepared for the screener"):
        pipeline.run(SCREENER, [stale])


def test_unknown_analysers_are_refused():
    with pytest.raises(ValueError, match="Unknown analyser 'tarot'"):
        AnalyserWeights(kinds=("segmentation", "tarot"))


def test_every_registered_kind_implements_the_contract_and_describes_itself_without_weights():
    assert set(REGISTRY) == {"classifier", SEGMENTATION, SCREENER, CT_KIND}
    for kind, analyser in REGISTRY.items():
        assert analyser.kind == kind and analyser.reads in (RADIOGRAPH, CT_SERIES)
        card = analyser.describe(None)
        assert card.trained is False and card.to_dict()["name"] == card.name
        for method in ("prepare", "load", "run", "network_source"):
            assert callable(getattr(analyser, method))


def test_weights_directories_come_from_each_kinds_environment_variable(tmp_path: Path):
    weights = AnalyserWeights.from_env(
        (SEGMENTATION, CT_KIND), environ={CT_WEIGHTS_ENV_VAR: str(tmp_path), "CXR_SEGMENTATION_WEIGHTS": " "}
    )
    assert weights.kinds == ("classifier", SEGMENTATION, CT_KIND)
    assert weights.directory(CT_KIND) == tmp_path and weights.directory(SEGMENTATION) is None


def test_building_converts_every_configured_network_into_the_cache_before_any_study(model_cache: Path):
    import openvino as ov

    kinds = (SEGMENTATION, SCREENER, CT_KIND)
    Analysers(AnalyserWeights(kinds=kinds), threads=1).build()
    for kind in kinds:
        key = REGISTRY[kind].network_source(None).cache_key(ov.get_version())
        assert (model_cache / key / "manifest.json").is_file()
