"""The one pipeline: intake without a network, analysis in batches, compact results."""

from __future__ import annotations

import dataclasses
import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageOps

from ml.classifier.analyser import CLASSIFIER
from ml.classifier.explanations.heatmaps import Heatmaps
from ml.errors import ImageRejectedError
from ml.pipeline import Pipeline
from ml.prepared import PreparedImage


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(None, threads=2)


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_intake_prepares_the_network_input_and_keeps_a_pngs_pixels(pipeline, radiograph_path):
    data = radiograph_path.read_bytes()
    intake = pipeline.intake(data)
    assert intake.format == "png"
    # What is kept is a clean copy (no metadata chunks) with the upload's pixels, bit for bit.
    with Image.open(io.BytesIO(intake.stored_bytes)) as stored, Image.open(io.BytesIO(data)) as original:
        np.testing.assert_array_equal(np.asarray(stored), np.asarray(original))
    assert intake.screening.orientation == "upright" and intake.screening.corrected is None
    assert intake.prepared.inputs[CLASSIFIER].shape == (224, 224, 1)
    assert intake.prepared.input_keys[CLASSIFIER] == pipeline.analysers.input_key(CLASSIFIER)
    with Image.open(io.BytesIO(intake.display_png())) as display:
        assert display.mode == "L" and display.size == (1024, 1024)


def test_intake_corrects_an_inverted_radiograph_and_refuses_a_rotated_one(pipeline, radiograph_path):
    upright = Image.open(radiograph_path).convert("L")
    corrected = pipeline.intake(png(ImageOps.invert(upright)))
    assert corrected.screening.corrected == "inverted grey scale"
    np.testing.assert_allclose(
        corrected.prepared.inputs[CLASSIFIER],
        pipeline.intake(png(upright)).prepared.inputs[CLASSIFIER],
        atol=1e-3,
    )
    with pytest.raises(ImageRejectedError) as refusal:
        pipeline.intake(png(upright.rotate(90, expand=True)))
    assert refusal.value.reason == "rotated"


def test_prepared_input_survives_its_trip_to_the_worker_bit_for_bit(pipeline, radiograph_path):
    prepared = pipeline.intake(radiograph_path.read_bytes()).prepared
    again = PreparedImage.from_bytes(prepared.to_bytes())
    np.testing.assert_array_equal(again.inputs[CLASSIFIER], prepared.inputs[CLASSIFIER])
    assert (again.crop, again.width, again.height, again.input_keys) == (
        prepared.crop,
        prepared.width,
        prepared.height,
        prepared.input_keys,
    )


def test_an_input_stored_before_the_one_contract_still_reads_as_the_classifiers(pipeline, radiograph_path):
    prepared = pipeline.intake(radiograph_path.read_bytes()).prepared
    tensor = prepared.inputs[CLASSIFIER]
    buffer = io.BytesIO()
    # The layout of the files written before every model went through one contract.
    np.savez(
        buffer,
        tensor=tensor,
        frame=np.array([0, 0, 1024, prepared.width, prepared.height]),
        preprocessing=np.array("0123456789abcdef"),
        view_position=np.array(""),
        analyser_keys=np.array('{"screener": "fedcba9876543210"}'),
        input_of_screener=np.zeros((299, 299, 1), np.float32),
    )
    old = PreparedImage.from_bytes(buffer.getvalue())
    np.testing.assert_array_equal(old.inputs[CLASSIFIER], tensor)
    assert old.input_keys == {CLASSIFIER: "0123456789abcdef", "screener": "fedcba9876543210"}
    assert (old.width, old.height, old.view_position) == (prepared.width, prepared.height, None)


def test_a_batch_gives_each_image_the_answer_it_gets_alone(pipeline, nih_pngs):
    prepared = [pipeline.intake(path.read_bytes()).prepared for path in nih_pngs[:3]]
    together = pipeline.run(CLASSIFIER, prepared)
    for image, result in zip(prepared, together, strict=True):
        [alone] = pipeline.run(CLASSIFIER, [image])
        assert result.probabilities == pytest.approx(alone.probabilities, abs=1e-6)
        np.testing.assert_allclose(result.heatmaps.maps, alone.heatmaps.maps, atol=1e-5)
    # Different radiographs, different answers: the comparison is not of constants.
    assert together[0].probabilities != together[1].probabilities


def test_calling_the_pipeline_is_intake_then_analysis(pipeline, radiograph_path):
    data = radiograph_path.read_bytes()
    [expected] = pipeline.run(CLASSIFIER, [pipeline.intake(data).prepared])
    assert pipeline(data).findings == expected.findings


def test_results_keep_small_heatmaps_and_place_them_on_the_radiograph_on_request(pipeline, radiograph_path):
    result = pipeline(radiograph_path.read_bytes())
    heatmaps = result.heatmaps
    assert heatmaps.labels == result.card.labels and heatmaps.maps.shape == (14, 7, 7)
    stored = heatmaps.to_bytes()
    # Fourteen full-size RGBA PNGs took megabytes; the maps a few kilobytes.
    assert len(stored) < 10_000
    again = Heatmaps.from_bytes(stored)
    np.testing.assert_array_equal(again.maps, heatmaps.maps)
    placed = again.at_radiograph_size(heatmaps.labels[0])
    assert placed.shape == (1024, 1024) and 0.0 <= placed.min() <= placed.max() <= 1.0
    with pytest.raises(KeyError):
        again.small("Covid")


def test_an_input_prepared_for_another_models_preprocessing_is_refused(pipeline, radiograph_path):
    prepared = pipeline.intake(radiograph_path.read_bytes()).prepared
    stale = dataclasses.replace(prepared, input_keys={CLASSIFIER: "0" * 16})
    with pytest.raises(ValueError, match="not prepared for the classifier"):
        pipeline.run(CLASSIFIER, [stale])


def test_intake_never_imports_a_deep_learning_runtime(radiograph_path):
    code = (
        "import sys\n"
        "from ml.pipeline import Pipeline\n"
        f"Pipeline(None).intake(open({str(radiograph_path)!r}, 'rb').read())\n"
        "loaded = {'tensorflow', 'keras', 'openvino'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
