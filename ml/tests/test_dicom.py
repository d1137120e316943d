"""DICOM radiographs: decoding, the tags that refuse an image, and the de-identified copy."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from conftest import cxr_data_dir
from pydicom.uid import ExplicitVRLittleEndian

from ml.errors import ImageDecodeError, ImageRejectedError
from ml.images.decoding import decode_radiograph
from ml.images.dicom import decode_dicom, deidentified_copy, identifying_values


def sample_path(name: str = "siim-sample.dcm") -> Path:
    path = cxr_data_dir() / "dicom" / name
    if not path.is_file():
        pytest.fail(f"Missing the shared DICOM sample {path}")
    return path


def with_tags(**tags: object) -> bytes:
    """The real sample DICOM with some tags changed."""
    dataset = pydicom.dcmread(sample_path())
    for keyword, value in tags.items():
        setattr(dataset, keyword, value)
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    return buffer.getvalue()


def test_sample_dicom_decodes_with_its_metadata():
    radiograph = decode_radiograph(sample_path().read_bytes())
    assert (radiograph.width, radiograph.height, radiograph.bit_depth) == (1024, 1024, 8)
    assert radiograph.pixels.min() >= 0.0 and radiograph.pixels.max() <= 1.0
    metadata = radiograph.metadata
    assert (metadata.modality, metadata.body_part, metadata.view_position) == ("CR", "CHEST", "PA")
    assert (metadata.patient_age_years, metadata.patient_sex) == (62, "M")
    assert metadata.pixel_spacing_mm == (0.168, 0.168)


def test_monochrome1_is_inverted_so_that_one_means_bright():
    monochrome2 = decode_radiograph(sample_path().read_bytes()).pixels
    monochrome1 = decode_radiograph(sample_path("siim-sample-monochrome1.dcm").read_bytes()).pixels
    # Both files store the same values; MONOCHROME1 means the lowest value is white.
    np.testing.assert_allclose(monochrome1, 1.0 - monochrome2, atol=1e-6)


def sixteen_bit_dicom(**tags: object) -> tuple[bytes, np.ndarray]:
    dataset = pydicom.dcmread(sample_path())
    stored = dataset.pixel_array.astype(np.uint16) * 16  # 12 bits stored
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = 16, 12, 11
    dataset.PixelData = stored.tobytes()
    for keyword, value in tags.items():
        setattr(dataset, keyword, value)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue(), stored


def test_sixteen_bit_dicom_scales_by_its_stored_bits():
    data, stored = sixteen_bit_dicom()
    radiograph = decode_radiograph(data)
    assert radiograph.bit_depth == 16
    np.testing.assert_allclose(radiograph.pixels, stored / 4095.0, atol=1e-6)


def test_voi_window_is_applied():
    data, stored = sixteen_bit_dicom(WindowCenter=2048, WindowWidth=1024)
    pixels = decode_radiograph(data).pixels
    # Values below the window are black, above it white, inside it a linear ramp.
    assert np.all(pixels[stored <= 1536] == 0.0)
    assert np.all(pixels[stored >= 2560] == 1.0)
    inside = (stored > 1700) & (stored < 2400)
    assert inside.any()
    assert np.all((pixels[inside] > 0.0) & (pixels[inside] < 1.0))


@pytest.mark.parametrize(
    ("tags", "reason", "tag"),
    [
        ({"Modality": "CT"}, "not a radiograph", "(0008,0060)"),
        ({"Modality": "MR"}, "not a radiograph", "(0008,0060)"),
        ({"Modality": "US"}, "not a radiograph", "(0008,0060)"),
        ({"BodyPartExamined": "HAND"}, "not a chest radiograph", "(0018,0015)"),
        ({"NumberOfFrames": 2}, "multi-frame image", "(0028,0008)"),
        ({"ViewPosition": "LL"}, "lateral view", "(0018,5101)"),
    ],
    ids=["ct", "mr", "us", "hand", "multi-frame", "lateral"],
)
def test_dicom_that_is_not_a_frontal_chest_radiograph_is_refused_naming_the_tag(tags, reason, tag):
    with pytest.raises(ImageRejectedError) as refusal:
        decode_dicom(with_tags(**tags))
    assert refusal.value.reason == reason
    assert refusal.value.tag.startswith(tag)
    assert tag in str(refusal.value)


def test_truncated_dicom_is_a_decode_error():
    data = sample_path().read_bytes()
    with pytest.raises(ImageDecodeError):
        decode_radiograph(data[: len(data) // 2])


def test_deidentified_copy_keeps_pixels_and_characteristics_but_no_identifier():
    original = sample_path().read_bytes()
    identifiers = identifying_values(original)
    assert "16d7f894-55d7-4d95-8957-d18987f0e981" in identifiers
    copy = deidentified_copy(original)
    for value in identifiers:
        assert value.encode() not in copy, value
    assert b"19010101" not in copy  # the study date
    dataset = pydicom.dcmread(io.BytesIO(copy))
    assert dataset.PatientIdentityRemoved == "YES"
    assert (dataset.PatientAge, dataset.PatientSex, dataset.ViewPosition) == ("62", "M", "PA")
    assert [float(value) for value in dataset.PixelSpacing] == [0.168, 0.168]
    np.testing.assert_array_equal(decode_radiograph(copy).pixels, decode_radiograph(original).pixels)


def test_deidentified_copies_get_new_uids_each_time():
    original = sample_path().read_bytes()
    first = pydicom.dcmread(io.BytesIO(deidentified_copy(original)))
    second = pydicom.dcmread(io.BytesIO(deidentified_copy(original)))
    assert first.SOPInstanceUID != second.SOPInstanceUID
    assert first.StudyInstanceUID != second.StudyInstanceUID
