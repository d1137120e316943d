"""The card-described pipeline from radiograph to network input."""

from __future__ import annotations

import numpy as np
import pytest

from ml.images.preprocessing import (
    CropBox,
    PreprocessingSpec,
    centre_square_crop,
    default_preprocessing,
    prepare_input,
)
from ml.images.radiograph import Radiograph


def test_default_pipeline_is_greyscale_centre_square_224_scaled_to_plus_minus_1024():
    assert default_preprocessing() == {
        "colour": "greyscale",
        "crop": "centre square",
        "resize": 224,
        "resample": "bilinear",
        "scale": [-1024.0, 1024.0],
    }


def test_prepared_real_radiograph_is_a_1x224x224x1_float32_tensor_within_the_scale(radiograph):
    model_input = prepare_input(radiograph, PreprocessingSpec.from_dict(default_preprocessing()))
    assert model_input.tensor.shape == (1, 224, 224, 1)
    assert model_input.tensor.dtype == np.float32
    assert -1024.0 <= model_input.tensor.min() < model_input.tensor.max() <= 1024.0
    assert model_input.crop == CropBox(left=0, top=0, size=1024)


def test_scaling_maps_black_to_low_and_white_to_high():
    pixels = np.zeros((256, 256), dtype=np.float32)
    pixels[:, 128:] = 1.0
    tensor = prepare_input(
        Radiograph(pixels, 8), PreprocessingSpec(resize=64, scale=(-1024.0, 1024.0))
    ).tensor
    assert tensor[0, :, :8, 0] == pytest.approx(-1024.0)
    assert tensor[0, :, -8:, 0] == pytest.approx(1024.0)


def test_non_square_radiograph_is_centre_cropped_before_resizing(landscape_radiograph, radiograph):
    spec = PreprocessingSpec.from_dict(default_preprocessing())
    model_input = prepare_input(landscape_radiograph, spec)
    assert model_input.crop == CropBox(left=112, top=0, size=800)
    # The crop of the landscape image is the central 800 x 800 of the original radiograph.
    centre = Radiograph(np.ascontiguousarray(radiograph.pixels[112:912, 112:912]), 8)
    np.testing.assert_array_equal(model_input.tensor, prepare_input(centre, spec).tensor)


def test_centre_square_crop_of_portrait_and_landscape_frames():
    assert centre_square_crop(1024, 800) == CropBox(left=112, top=0, size=800)
    assert centre_square_crop(801, 1024) == CropBox(left=0, top=111, size=801)
    assert centre_square_crop(5, 5) == CropBox(left=0, top=0, size=5)


def test_three_channel_input_repeats_the_grey_channel(radiograph):
    tensor = prepare_input(radiograph, PreprocessingSpec(resize=64, scale=(0.0, 1.0)), channels=3).tensor
    assert tensor.shape == (1, 64, 64, 3)
    np.testing.assert_array_equal(tensor[..., 0], tensor[..., 2])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "cmyk"}, "colour"),
        ({"crop": "none"}, "crop"),
        ({"resize": 10}, "resize"),
        ({"scale": [1, -1]}, "scale"),
        ({"resample": "nearest"}, "resample"),
        ({"normalise": "imagenet"}, "unknown keys"),
    ],
)
def test_spec_refuses_pipelines_it_does_not_implement(change, message):
    with pytest.raises(ValueError, match=message):
        PreprocessingSpec.from_dict({**default_preprocessing(), **change})


def test_rgb_pipeline_repeats_grey_and_standardises_each_channel(radiograph):
    spec = PreprocessingSpec.from_dict(
        {
            "colour": "rgb",
            "crop": "centre square",
            "resize": 64,
            "scale": [0, 1],
            "mean": [0.485, 0.456, 0.406],
            "std": [0.229, 0.224, 0.225],
        }
    )
    assert spec.channels == 3 and spec.to_dict()["mean"] == [0.485, 0.456, 0.406]
    tensor = prepare_input(radiograph, spec, channels=3).tensor
    grey = prepare_input(radiograph, PreprocessingSpec(resize=64, scale=(0.0, 1.0))).tensor[..., 0]
    for channel, (mean, std) in enumerate(zip(spec.mean, spec.std, strict=True)):
        np.testing.assert_allclose(tensor[..., channel], (grey - mean) / std, rtol=1e-6, atol=1e-5)


def test_default_cards_keep_their_layout_without_mean_and_std():
    assert "mean" not in PreprocessingSpec.from_dict(default_preprocessing()).to_dict()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mean": [0.5]}, "both or neither"),
        ({"mean": [0.5], "std": [0.0]}, "positive"),
        ({"mean": [0.5, 0.5], "std": [1, 1]}, "1 or 1 numbers"),
        ({"colour": "rgb", "mean": [0.5, 0.5], "std": [1, 1]}, "1 or 3 numbers"),
    ],
)
def test_standardisation_is_checked(change, message):
    with pytest.raises(ValueError, match=message):
        PreprocessingSpec.from_dict({**default_preprocessing(), **change})
