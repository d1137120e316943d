"""Input screening: every real radiograph passes (the 156 films of nih-screening/ included, none of
which made the shipped template); other images are refused with their reason."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from conftest import cxr_data_dir
from PIL import Image

from ml.errors import ImageRejectedError
from ml.images.decoding import decode_radiograph
from ml.images.radiograph import Radiograph
from ml.images.screening import INVERTED, UPRIGHT, screen_radiograph
from ml.images.screening_report import document, measure, negative_examples, screenshot, verdict_of


def real_radiograph_paths() -> list[Path]:
    paths = sorted((cxr_data_dir() / "nih").glob("*.png")) + sorted((cxr_data_dir() / "dicom").glob("*.dcm"))
    if len(paths) < 20:
        pytest.fail(f"Expected the 18 NIH radiographs and 2 DICOMs under {cxr_data_dir()}")
    return paths


def nih_screening_paths() -> list[Path]:
    paths = sorted((cxr_data_dir() / "nih-screening").glob("*.png"))
    if len(paths) < 156:
        pytest.fail(f"Expected the 156 frontal chest films of nih-screening/ under {cxr_data_dir()}")
    return paths


def png_radiograph(pixels: np.ndarray) -> Radiograph:
    """Pixels as the service would receive them: saved as an 8-bit PNG and decoded."""
    buffer = io.BytesIO()
    Image.fromarray(np.clip(np.rint(pixels * 255), 0, 255).astype(np.uint8)).save(buffer, format="PNG")
    return decode_radiograph(buffer.getvalue())


def refusal_reason(radiograph: Radiograph) -> str:
    with pytest.raises(ImageRejectedError) as refusal:
        screen_radiograph(radiograph)
    return refusal.value.reason


@pytest.mark.parametrize("path", real_radiograph_paths(), ids=lambda path: path.name)
def test_every_real_radiograph_passes_the_screening(path):
    _radiograph, screening = screen_radiograph(decode_radiograph(path.read_bytes()))
    if "monochrome1" in path.name:
        # Its pixels were stored for MONOCHROME2: read as MONOCHROME1 they are inverted, and corrected.
        assert (screening.orientation, screening.corrected) == (INVERTED, INVERTED)
    else:
        assert (screening.orientation, screening.corrected) == (UPRIGHT, None)


def test_no_real_frontal_chest_film_of_nih_screening_or_nih_is_refused():
    # Padded, bordered, tightly framed and grey-inverted films among them were refused as "not a
    # chest radiograph" while their borders counted as anatomy and as flat grey levels.
    paths = nih_screening_paths() + sorted((cxr_data_dir() / "nih").glob("*.png"))
    verdicts = {
        f"{path.parent.name}/{path.name}": verdict_of(decode_radiograph(path.read_bytes())) for path in paths
    }
    refused = sorted(name for name, verdict in verdicts.items() if verdict.startswith("refused"))
    assert refused == [], f"{len(refused)}/{len(verdicts)} real chest films refused"


def test_nih_film_stored_with_inverted_grey_levels_is_accepted_and_corrected():
    # ChestX-ray14 holds a few films saved with bright lungs; its white film edge hid the anatomy.
    path = cxr_data_dir() / "nih-screening" / "00017999_000.png"
    _, screening = screen_radiograph(decode_radiograph(path.read_bytes()))
    assert (screening.orientation, screening.corrected) == (INVERTED, INVERTED)


def test_every_photo_document_screenshot_and_noise_image_but_the_rocket_is_refused():
    verdicts = {name: verdict_of(radiograph) for name, _kind, radiograph in negative_examples()}
    accepted = sorted(name for name, verdict in verdicts.items() if not verdict.startswith("refused"))
    # The one known false acceptance (README, "Input screening"): a rocket upright on its pad.
    assert accepted == ["rocket (grey)"], accepted
    assert len(verdicts) == 43


def test_monochrome1_sample_ends_up_with_bright_bone_like_its_monochrome2_twin():
    twin = decode_radiograph((cxr_data_dir() / "dicom" / "siim-sample.dcm").read_bytes())
    corrected, _ = screen_radiograph(
        decode_radiograph((cxr_data_dir() / "dicom" / "siim-sample-monochrome1.dcm").read_bytes())
    )
    np.testing.assert_allclose(corrected.pixels, twin.pixels, atol=1e-6)


@pytest.fixture(scope="module")
def upright(request) -> Radiograph:
    return decode_radiograph((cxr_data_dir() / "nih" / "00030012_000.png").read_bytes())


@pytest.mark.parametrize("quarter_turns", [1, 2, 3])
def test_rotated_radiograph_is_refused_as_rotated(upright, quarter_turns):
    assert refusal_reason(png_radiograph(np.rot90(upright.pixels, quarter_turns))) == "rotated"


def test_inverted_radiograph_is_corrected_and_flagged(upright):
    corrected, screening = screen_radiograph(png_radiograph(1.0 - upright.pixels))
    assert screening.corrected == INVERTED
    np.testing.assert_allclose(corrected.pixels, upright.pixels, atol=1 / 255 + 1e-6)


def test_radiograph_saved_as_rgb_or_rgba_with_equal_channels_passes(upright):
    grey = np.clip(np.rint(upright.pixels * 255), 0, 255).astype(np.uint8)
    for mode, channels in (("RGB", 3), ("RGBA", 4)):
        stacked = np.stack([grey] * 3 + ([np.full_like(grey, 255)] if channels == 4 else []), axis=-1)
        buffer = io.BytesIO()
        Image.fromarray(stacked, mode=mode).save(buffer, format="PNG")
        _, screening = screen_radiograph(decode_radiograph(buffer.getvalue()))
        assert screening.orientation == UPRIGHT, mode


@pytest.mark.parametrize("border", [0.0, 1.0], ids=["black-padding", "white-film-edge"])
def test_real_film_off_centre_on_a_flat_canvas_passes_upright(upright, border):
    # The film on a canvas 1.5 times its size, in the top left corner, as some archives pad them.
    height, width = upright.pixels.shape
    canvas = np.full((height * 3 // 2, width * 3 // 2), border, dtype=np.float32)
    canvas[:height, :width] = upright.pixels
    _, screening = screen_radiograph(png_radiograph(canvas))
    assert (screening.orientation, screening.corrected) == (UPRIGHT, None)


def test_colour_photograph_is_refused():
    buffer = io.BytesIO()
    Image.fromarray(skimage.data.astronaut()).save(buffer, format="PNG")
    assert refusal_reason(decode_radiograph(buffer.getvalue())) == "colour photograph"


def test_image_under_256_pixels_a_side_is_refused(upright):
    small = np.asarray(Image.fromarray(upright.pixels, mode="F").resize((200, 200)))
    assert refusal_reason(png_radiograph(small)) == "too small"


@pytest.mark.parametrize(
    "picture",
    [
        pytest.param(lambda rng: skimage.data.camera() / 255.0, id="greyscale-photograph"),
        pytest.param(
            lambda rng: np.asarray(Image.fromarray(skimage.data.page()).resize((768, 600))) / 255.0,
            id="scanned-page",
        ),
        pytest.param(lambda rng: document(rng) / 255.0, id="document"),
        pytest.param(lambda rng: screenshot(rng) / 255.0, id="screenshot"),
        pytest.param(lambda rng: rng.random((512, 512)), id="noise"),
    ],
)
def test_non_radiograph_is_refused_as_not_a_chest_radiograph(picture):
    radiograph = png_radiograph(picture(np.random.default_rng(0)))
    assert refusal_reason(radiograph) == "not a chest radiograph"


def test_measured_error_rates_stay_as_reported_in_the_readme():
    dicom = cxr_data_dir() / "dicom"
    upright_paths = [path for path in real_radiograph_paths() if "monochrome1" not in path.name]
    outcomes = measure(upright_paths, [dicom / "siim-sample-monochrome1.dcm"])
    real = [outcome for outcome in outcomes if outcome.kind == "real radiograph"]
    others = [outcome for outcome in outcomes if outcome.kind != "real radiograph"]
    assert [outcome.name for outcome in real if not outcome.correct] == []
    false_acceptances = [outcome.name for outcome in others if outcome.verdict == "accepted"]
    assert len(others) == 123
    assert len(false_acceptances) <= 1, false_acceptances
