"""PNG and JPEG clean copies: a patient's name planted in every metadata place is gone, the pixels
are bit-identical and the orientation survives."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import cxr_data_dir
from PIL import Image, ImageCms, PngImagePlugin

from ml.images.decoding import decode_radiograph
from ml.images.deidentification import clean_copy
from ml.pipeline import Pipeline

NAME = "Wilhelmina Fairbrother"
XMP = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>{NAME}</dc:creator></x:xmpmeta>'.encode()


def radiograph() -> Image.Image:
    return Image.open(cxr_data_dir() / "nih" / "00030012_000.png").convert("L")


def exif_with_name(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x013B] = NAME  # Artist
    exif[0x010E] = f"Chest PA of {NAME}"  # ImageDescription
    exif[0x0112] = orientation
    return exif


def icc_with_name() -> bytes:
    # A real sRGB profile followed by a description tag holding the name, as ICC v4 writes it (UTF-16).
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return profile + b"desc\x00\x00\x00\x00" + NAME.encode("utf-16-be")


def png_with_name() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", NAME)  # tEXt
    info.add_text("Comment", f"Patient {NAME}", zip=True)  # zTXt
    info.add_itxt("Description", f"Patient {NAME}", lang="en", zip=True)  # compressed iTXt
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())  # XMP
    buffer = io.BytesIO()
    radiograph().save(buffer, format="PNG", pnginfo=info, exif=exif_with_name(), icc_profile=icc_with_name())
    return buffer.getvalue()


def jpeg_with_name(orientation: int = 1) -> bytes:
    buffer = io.BytesIO()
    radiograph().save(
        buffer,
        format="JPEG",
        quality=92,
        exif=exif_with_name(orientation),
        icc_profile=icc_with_name(),
        comment=f"Patient {NAME}",
        xmp=XMP,
    )
    return buffer.getvalue()


def every_form_of_the_name() -> list[bytes]:
    return [form for part in NAME.split() for form in (part.encode(), part.encode("utf-16-be"))]


def metadata_text(data: bytes) -> bytes:
    """Everything Pillow finds in the file's metadata, decompressed."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        parts = [repr(image.info).encode(), repr(dict(image.getexif())).encode()]
        parts.append(image.info.get("icc_profile") or b"")
    return b"".join(parts)


@pytest.mark.parametrize("make", [png_with_name, jpeg_with_name], ids=["png", "jpeg"])
def test_name_planted_in_every_metadata_place_is_not_in_the_clean_copy(make):
    original = make()
    assert any(form in original + metadata_text(original) for form in every_form_of_the_name())
    copy = clean_copy(original, "png" if make is png_with_name else "jpeg")
    for form in every_form_of_the_name():
        assert form not in copy.data, form
        assert form not in metadata_text(copy.data), form
    assert {"wilhelmina", "fairbrother"} <= copy.removed_words


@pytest.mark.parametrize("make", [png_with_name, jpeg_with_name], ids=["png", "jpeg"])
def test_clean_copy_has_bit_identical_pixels(make):
    original = make()
    copy = clean_copy(original, "png" if make is png_with_name else "jpeg").data
    np.testing.assert_array_equal(
        np.asarray(Image.open(io.BytesIO(copy))), np.asarray(Image.open(io.BytesIO(original)))
    )


def test_jpeg_orientation_is_kept_alone_so_the_copy_decodes_upright():
    original = jpeg_with_name(orientation=6)
    copy = clean_copy(original, "jpeg").data
    assert Image.open(io.BytesIO(copy)).getexif() == {0x0112: 6}
    np.testing.assert_array_equal(decode_radiograph(copy).pixels, decode_radiograph(original).pixels)


def test_pipeline_intake_stores_only_the_clean_copy():
    intake = Pipeline().intake(png_with_name())
    for form in every_form_of_the_name():
        assert form not in intake.stored_bytes
    assert "fairbrother" in intake.identifying_words


def test_data_appended_after_the_image_end_is_dropped():
    original = png_with_name() + f"appended note on {NAME}".encode()
    assert b"Fairbrother" not in clean_copy(original, "png").data
