"""The imported ChestX-Det PSPNet is fed as torchxrayvision feeds it: its card names the resize.

The reference is torchxrayvision's own preprocessing, written out here with scikit-image
called directly: ``xrv.datasets.normalize(img, 255)`` to [-1024, 1024], ``XRayResizer(512)``
(``skimage.transform.resize(img, (1, 512, 512), mode="constant", preserve_range=True)``),
then the model's forward's ``(x + 1024) / 2048``.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.transform

from ml.errors import WeightsError
from ml.images.decoding import decode_radiograph
from ml.images.radiograph import Radiograph
from ml.segmentation.card import SegmentationCard, untrained_unet_card
from ml.segmentation.importer import CHESTX_DET_INPUT_SIZE, chestx_det_card
from ml.segmentation.preprocessing import AREA, SKIMAGE_LINEAR_ANTIALIAS, card_resize, resize_grey

# Four float32 rounding steps of a grey level in [0, 1]: the two pipelines scale to
# torchxrayvision's range and back in different orders.
FLOAT32_ROUNDING = 4 * float(np.finfo(np.float32).eps)


def torchxrayvision_resize(grey_levels: np.ndarray, side: int) -> np.ndarray:
    """torchxrayvision's preprocessing of 8-bit grey levels for the PSPNet, back in [0, 1]."""
    image = (2 * (grey_levels.astype(np.float32) / 255) - 1.0) * 1024
    resized = skimage.transform.resize(
        image[None, :, :], (1, side, side), mode="constant", preserve_range=True
    ).astype(np.float32)
    return ((resized + 1024) / 2048)[0]


def test_the_imported_pspnet_card_names_torchxrayvisions_resize_and_old_cards_read_as_area() -> None:
    card = chestx_det_card(Path("pspnet_chestxray_best_model_4.pth"), "0" * 64, None, None)
    assert card.preprocessing["resize"] == SKIMAGE_LINEAR_ANTIALIAS
    assert untrained_unet_card().preprocessing["resize"] == AREA
    written_before = card.to_dict()
    del written_before["preprocessing"]["resize"]
    assert card_resize(SegmentationCard.from_dict(written_before).preprocessing) == AREA
    written_before["preprocessing"]["resize"] = "bicubic"
    with pytest.raises(WeightsError, match=r"preprocessing\.resize must be one of"):
        SegmentationCard.from_dict(written_before)


@pytest.mark.parametrize("crop", [None, (112, 912)], ids=["square", "landscape"])
def test_our_resize_of_a_real_radiograph_equals_torchxrayvisions_within_float32_rounding(
    radiograph_path: Path, crop: tuple[int, int] | None
) -> None:
    grey_levels = cv2.imread(str(radiograph_path), cv2.IMREAD_GRAYSCALE)
    radiograph = decode_radiograph(radiograph_path.read_bytes())
    if crop is not None:
        grey_levels = grey_levels[crop[0] : crop[1]]
        radiograph = Radiograph(
            pixels=np.ascontiguousarray(radiograph.pixels[crop[0] : crop[1]]), bit_depth=8
        )
    np.testing.assert_array_equal(np.round(radiograph.pixels * 255), grey_levels)
    reference = torchxrayvision_resize(grey_levels, CHESTX_DET_INPUT_SIZE)
    ours = resize_grey(radiograph.pixels, CHESTX_DET_INPUT_SIZE, SKIMAGE_LINEAR_ANTIALIAS)
    assert ours.dtype == np.float32 and ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, rtol=0, atol=FLOAT32_ROUNDING)
    # OpenCV's area filter, which the card named before, is not that resize.
    assert np.abs(resize_grey(radiograph.pixels, CHESTX_DET_INPUT_SIZE, AREA) - reference).max() > 1e-3
