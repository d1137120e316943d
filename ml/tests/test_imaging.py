"""Decoding real radiographs and refusing what is not one."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from ml.errors import ImageDecodeError
from ml.images.decoding import decode_radiograph
from ml.images.radiograph import MAX_PIXELS, Radiograph


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _original_grey(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0


def test_every_nih_png_decodes_to_1024_square_in_unit_range(nih_pngs):
    for path in nih_pngs:
        radiograph = decode_radiograph(path.read_bytes())
        assert (radiograph.width, radiograph.height) == (1024, 1024), path.name
        assert radiograph.bit_depth == 8
        assert radiograph.pixels.dtype == np.float32
        assert 0.0 <= radiograph.pixels.min() < radiograph.pixels.max() <= 1.0, path.name
        np.testing.assert_array_equal(radiograph.pixels, _original_grey(path))


def test_16_bit_png_decodes_to_the_same_grey_levels_scaled_by_the_bit_depth(radiograph_path):
    eight_bit = np.asarray(Image.open(radiograph_path), dtype=np.uint16)
    sixteen_bit = Image.fromarray(eight_bit * 257)
    assert sixteen_bit.mode == "I;16"
    radiograph = decode_radiograph(_png_bytes(sixteen_bit))
    assert radiograph.bit_depth == 16
    np.testing.assert_allclose(radiograph.pixels, eight_bit / 255.0, atol=1e-6)


def test_16_bit_png_with_a_dark_maximum_is_not_stretched_to_white(radiograph_path):
    # A 12-bit detector image stored in 16 bits must stay dark: we scale by 65535, not the image max.
    twelve_bit = (np.asarray(Image.open(radiograph_path), dtype=np.uint16) * 16).astype(np.uint16)
    radiograph = decode_radiograph(_png_bytes(Image.fromarray(twelve_bit)))
    assert radiograph.pixels.max() == pytest.approx(twelve_bit.max() / 65535.0)


def test_jpeg_reencode_of_a_radiograph_decodes_close_to_the_original(radiograph_path, radiograph):
    buffer = io.BytesIO()
    Image.open(radiograph_path).save(buffer, format="JPEG", quality=95)
    decoded = decode_radiograph(buffer.getvalue())
    assert (decoded.width, decoded.height, decoded.bit_depth) == (1024, 1024, 8)
    assert np.abs(decoded.pixels - radiograph.pixels).mean() < 0.01


def test_rgb_png_with_equal_channels_decodes_to_the_same_greyscale(radiograph_path, radiograph):
    rgb = Image.open(radiograph_path).convert("RGB")
    np.testing.assert_array_equal(decode_radiograph(_png_bytes(rgb)).pixels, radiograph.pixels)


def test_rgba_and_la_pngs_ignore_the_alpha_channel(radiograph_path, radiograph):
    for mode in ("RGBA", "LA"):
        image = Image.open(radiograph_path).convert(mode)
        np.testing.assert_array_equal(decode_radiograph(_png_bytes(image)).pixels, radiograph.pixels, mode)


def test_rgb_png_with_colour_uses_luma(radiograph_path):
    grey = np.asarray(Image.open(radiograph_path), dtype=np.uint8)
    tinted = np.stack([grey, grey // 2, np.zeros_like(grey)], axis=-1)
    decoded = decode_radiograph(_png_bytes(Image.fromarray(tinted)))
    expected = (0.299 * grey + 0.587 * (grey // 2)) / 255.0
    np.testing.assert_allclose(decoded.pixels, expected, atol=1e-5)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"this is not an image at all" * 10, "not a PNG, JPEG or DICOM"),
        (b"GIF89a" + bytes(200), "not a PNG, JPEG or DICOM"),
    ],
)
def test_garbage_or_empty_bytes_raise_image_decode_error(data, message):
    with pytest.raises(ImageDecodeError, match=message):
        decode_radiograph(data)


def test_truncated_png_raises_image_decode_error(radiograph_path):
    data = radiograph_path.read_bytes()
    with pytest.raises(ImageDecodeError, match="truncated or corrupt"):
        decode_radiograph(data[: len(data) // 2])


def test_truncated_jpeg_raises_image_decode_error(radiograph_path):
    buffer = io.BytesIO()
    Image.open(radiograph_path).save(buffer, format="JPEG")
    with pytest.raises(ImageDecodeError, match="truncated or corrupt"):
        decode_radiograph(buffer.getvalue()[:5000])


def test_gif_is_refused_even_though_pillow_reads_it(radiograph_path):
    buffer = io.BytesIO()
    Image.open(radiograph_path).save(buffer, format="GIF")
    with pytest.raises(ImageDecodeError, match="not a PNG, JPEG or DICOM"):
        decode_radiograph(buffer.getvalue())


def test_oversized_header_is_refused_before_decoding():
    # A 1-bit PNG of 8000 x 8000 pixels compresses to a few kilobytes: a classic bomb.
    side = int(MAX_PIXELS**0.5) + 100
    bomb = _png_bytes(Image.new("1", (side, side)))
    assert len(bomb) < 100_000
    with pytest.raises(ImageDecodeError, match="too large"):
        decode_radiograph(bomb)


def test_tiny_image_is_refused_as_too_small():
    with pytest.raises(ImageDecodeError, match="too small"):
        decode_radiograph(_png_bytes(Image.new("L", (16, 16))))


def test_radiograph_refuses_pixels_that_are_not_2d_float32():
    with pytest.raises(ValueError, match="float32"):
        Radiograph(pixels=np.zeros((4, 4), dtype=np.float64), bit_depth=8)
    with pytest.raises(ValueError, match="2-D"):
        Radiograph(pixels=np.zeros((4, 4, 3), dtype=np.float32), bit_depth=8)
