"""The inference engine on real radiographs with the seeded untrained model."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
from conftest import analyze

from ml.classifier.architecture import weights_digest
from ml.classifier.network import densenet_weights
from ml.labels import CHESTXRAY14_LABELS


def test_analysis_has_14_probabilities_in_unit_range_keyed_by_label(untrained_engine, radiograph):
    analysis = analyze(untrained_engine, radiograph)
    assert tuple(analysis.probabilities) == CHESTXRAY14_LABELS
    assert all(isinstance(p, float) and 0.0 <= p <= 1.0 for p in analysis.probabilities.values())


def test_heatmaps_are_at_the_radiograph_size_in_unit_range(untrained_engine, radiograph):
    heatmaps = analyze(untrained_engine, radiograph).heatmaps
    assert heatmaps.labels == CHESTXRAY14_LABELS
    for heatmap in map(heatmaps.at_radiograph_size, heatmaps.labels):
        assert heatmap.shape == (1024, 1024) and heatmap.dtype == np.float32
        assert heatmap.min() >= 0.0 and heatmap.max() <= 1.0


def test_non_square_radiograph_gets_heatmaps_at_its_own_size_zero_outside_the_crop(
    untrained_engine, landscape_radiograph
):
    analysis = analyze(untrained_engine, landscape_radiograph)
    assert len(analysis.probabilities) == 14
    heatmaps = [analysis.heatmaps.at_radiograph_size(label) for label in analysis.heatmaps.labels]
    for heatmap in heatmaps:
        assert heatmap.shape == (800, 1024)
        assert heatmap.min() >= 0.0 and heatmap.max() <= 1.0
        assert not heatmap[:, :112].any() and not heatmap[:, 912:].any()
    assert any(heatmap.max() > 0 for heatmap in heatmaps)


def test_untrained_card_is_marked_untrained_with_the_hash_of_the_built_weights(untrained_engine):
    card = untrained_engine.card
    assert card.trained is False
    assert "untrained" in card.version
    assert re.fullmatch(r"[0-9a-f]{64}", card.weights_sha256)
    assert card.weights_sha256 == weights_digest(densenet_weights(untrained_engine.model), 1, 14)


def test_untrained_weights_are_deterministic_across_builds(untrained_engine, radiograph):
    from ml.classifier.engine import InferenceEngine

    rebuilt = InferenceEngine.load(None)
    assert rebuilt.card == untrained_engine.card
    first = analyze(untrained_engine, radiograph).probabilities
    second = analyze(rebuilt, radiograph).probabilities
    assert first == second


def test_explain_returns_one_probability_row_and_seven_by_seven_maps_per_image(untrained_engine, radiograph):
    from ml.images.preprocessing import PreprocessingSpec, prepare_input

    spec = PreprocessingSpec.from_dict(untrained_engine.card.preprocessing)
    images = np.concatenate([prepare_input(radiograph, spec).tensor] * 2)
    probabilities, maps = untrained_engine.explain(images)
    assert probabilities.shape == (2, 14) and maps.shape == (2, 14, 7, 7)
    np.testing.assert_allclose(probabilities[0], probabilities[1], atol=1e-6)


def test_threads_are_set_before_tensorflow_starts_and_later_changes_only_log():
    # A fresh process, because this test session's TensorFlow is already initialised.
    code = (
        "import logging, tensorflow as tf\n"
        "from ml.classifier.engine import configure_threads\n"
        "configure_threads(1)\n"
        "tf.constant(1.0) + 1.0\n"
        "assert tf.config.threading.get_intra_op_parallelism_threads() == 1\n"
        "assert tf.config.threading.get_inter_op_parallelism_threads() == 1\n"
        "records = []\n"
        "logging.getLogger('ml.engine.keras_forward').addHandler(logging.Handler())\n"
        "logging.getLogger('ml.engine.keras_forward').handlers[0].emit = records.append\n"
        "configure_threads(2)\n"
        "assert records and 'already initialised' in records[0].getMessage(), records\n"
        "assert tf.config.threading.get_intra_op_parallelism_threads() == 1\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
