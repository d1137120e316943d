"""All-finding Grad-CAM from one pass equals textbook Grad-CAM, and maps land in the right frame."""

from __future__ import annotations

import numpy as np
import pytest

from ml.classifier.explanations.gradcam import (
    class_activation_maps,
    linear_interpolation_matrix,
    maps_to_radiograph_frame,
    normalise_maps,
)
from ml.images.preprocessing import CropBox, PreprocessingSpec, prepare_input


def test_maps_are_normalised_per_class_and_all_zero_maps_stay_zero():
    maps = np.zeros((3, 7, 7), dtype=np.float32)
    maps[0, 2, 3] = 5.0
    maps[1] = 0.25
    normalised = normalise_maps(maps)
    assert normalised[0].max() == 1.0 and normalised[0].sum() == 1.0
    assert np.all(normalised[1] == 1.0)
    assert np.all(normalised[2] == 0.0)


def test_class_activation_maps_apply_relu_to_the_kernel_weighted_feature_sum():
    rng = np.random.default_rng(1)
    features = rng.random((7, 7, 16), dtype=np.float32)
    kernel = rng.normal(size=(16, 4)).astype(np.float32)
    kernel[:, 3] = -np.abs(kernel[:, 3])
    maps = class_activation_maps(features, kernel)
    assert maps.shape == (4, 7, 7)
    expected = np.maximum(np.tensordot(features, kernel[:, 0], axes=1), 0.0)
    np.testing.assert_allclose(maps[0], expected / expected.max(), atol=1e-6)
    # A class whose weights are all negative on non-negative features has no evidence anywhere.
    assert np.all(maps[3] == 0.0)


def test_interpolation_matrix_rows_are_convex_combinations():
    matrix = linear_interpolation_matrix(7, 800)
    assert matrix.shape == (800, 7)
    assert np.all(matrix >= 0.0)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0, atol=1e-6)


def test_maps_are_upsampled_into_the_crop_and_zero_outside_it():
    maps = np.random.default_rng(2).random((2, 7, 7)).astype(np.float32)
    maps[:, 0, 0] = 1.0
    crop = CropBox(left=112, top=0, size=800)
    frame = maps_to_radiograph_frame(maps, crop, width=1024, height=800)
    assert frame.shape == (2, 800, 1024) and frame.dtype == np.float32
    assert np.all(frame[:, :, :112] == 0.0) and np.all(frame[:, :, 912:] == 0.0)
    assert frame.min() >= 0.0 and frame.max() <= 1.0
    # The top-left map cell covers the top-left corner of the crop.
    assert frame[0, 0, 112] == pytest.approx(1.0)
    single = maps_to_radiograph_frame(maps[1], crop, width=1024, height=800)
    np.testing.assert_array_equal(single, frame[1])


def test_one_pass_gradcam_equals_textbook_gradient_tape_gradcam_for_every_class(radiograph):
    import keras
    import tensorflow as tf

    from ml.classifier.architecture import seeded_untrained_weights
    from ml.classifier.engine import InferenceEngine
    from ml.classifier.network import (
        LOGITS_LAYER,
        assign_densenet_weights,
        build_densenet121,
        densenet_weights,
        feature_map_model,
    )
    from ml.classifier.registry import untrained_card
    from ml.classifier.runtime_openvino import OpenVINORuntime

    card = untrained_card()
    model = build_densenet121(len(card.labels))
    assign_densenet_weights(model, seeded_untrained_weights(1, len(card.labels), 0))
    # Random weights of both signs give most classes a partly positive map, so the
    # comparison is not between two all-zero arrays.
    head = model.get_layer(LOGITS_LAYER)
    head.kernel.assign(
        np.random.default_rng(7).normal(0.0, 0.05, size=tuple(head.kernel.shape)).astype(np.float32)
    )
    images = prepare_input(radiograph, PreprocessingSpec.from_dict(card.preprocessing)).tensor
    # The Keras engine and the OpenVINO engine the service runs on a CPU, both from one pass.
    one_pass_maps = {
        "keras": InferenceEngine(model, card).explain(images)[1],
        "openvino": InferenceEngine(
            model, card, runtime=OpenVINORuntime(densenet_weights(model), 1, 224, threads=2)
        ).explain(images)[1],
    }

    gradient_model = feature_map_model(model)
    with tf.GradientTape(persistent=True) as tape:
        feature_map, logits = gradient_model(tf.constant(images), training=False)
        class_logits = [logits[:, index] for index in range(len(card.labels))]
    for index, label in enumerate(card.labels):
        gradients = tape.gradient(class_logits[index], feature_map)
        alphas = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
        textbook = tf.nn.relu(tf.reduce_sum(alphas * feature_map, axis=-1))[0].numpy()
        peak = textbook.max()
        textbook = textbook / peak if peak > 0 else textbook
        for backend, one_pass in one_pass_maps.items():
            difference = np.abs(one_pass[0, index] - textbook).max()
            assert difference <= 1e-4, f"{backend}, {label}: max abs difference {difference}"
    del tape

    non_zero = int(np.sum(one_pass_maps["keras"][0].max(axis=(1, 2)) > 0))
    assert non_zero >= 5, f"only {non_zero} classes have non-zero maps; the comparison would be vacuous"
    assert keras.ops.shape(feature_map)[1:] == (7, 7, 1024)
