"""DICOM grey levels through every LUT: each file is built from a real radiograph so that, read
right, it shows that radiograph's grey levels again.

The expectation is the PNG's own 8-bit values: each DICOM stores them through a known transform
(rescale, Modality LUT Sequence, VOI LUT Sequence, windows, signed values, 16-bit MONOCHROME1,
Presentation LUT Shape INVERSE) whose inverse is the display the standard prescribes. No code of
the decoder is used to compute it.
"""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from conftest import cxr_data_dir
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from ml.images.decoding import decode_radiograph
from ml.pipeline import Pipeline

# PS3.3 C.11.2.1.2.1: a LINEAR window maps x to ((x - (c - 0.5)) / (w - 1) + 0.5). For modality
# values x = slope * p + offset of 8-bit grey levels p, this window gives back p / 255.


def window_for(slope: float, offset: float) -> tuple[float, float]:
    width = 255 * slope + 1
    centre = offset + 127.5 * slope + 0.5
    return centre, width


@pytest.fixture(scope="module")
def grey_levels() -> np.ndarray:
    """An NIH radiograph's 8-bit grey levels (0 to 255)."""
    path = cxr_data_dir() / "nih" / "00030012_000.png"
    if not path.is_file():
        pytest.fail(f"Missing the shared radiograph {path}")
    return np.asarray(Image.open(path).convert("L"), dtype=np.int64)


def sample_dataset() -> Dataset:
    path = cxr_data_dir() / "dicom" / "siim-sample.dcm"
    if not path.is_file():
        pytest.fail(f"Missing the shared DICOM sample {path}")
    return pydicom.dcmread(path)


def dicom_of(stored: np.ndarray, *, bits_stored: int, signed: bool = False, **tags: object) -> bytes:
    """The sample's chest radiograph header around new 16-bit pixel data and grey-scale tags."""
    dataset = sample_dataset()
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset.Rows, dataset.Columns = stored.shape
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = 16, bits_stored, bits_stored - 1
    dataset.PixelRepresentation = 1 if signed else 0
    dataset.PixelData = stored.astype(np.int16 if signed else np.uint16).tobytes()
    for keyword, value in tags.items():
        setattr(dataset, keyword, value)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def lut_item(*, entries: int, first: int, depth: int, data: np.ndarray) -> Dataset:
    item = Dataset()
    # Both tags have an ambiguous VR (US or SS, US or OW): say which.
    item.add_new(0x00283002, "US", [entries, first, depth])  # LUT Descriptor
    item.add_new(0x00283006, "US", [int(value) for value in data])  # LUT Data
    return item


def rescale_and_window(p: np.ndarray) -> bytes:
    stored = p * 16 + 8  # 12 bits stored
    centre, width = window_for(2 * 16, 2 * 8 - 3000)
    return dicom_of(
        stored, bits_stored=12, RescaleSlope=2, RescaleIntercept=-3000, WindowCenter=centre, WindowWidth=width
    )


def rescale_without_window(p: np.ndarray) -> bytes:
    # Without a VOI LUT the modality output spans the stored range moved by the rescale.
    return dicom_of(p * 257, bits_stored=16, RescaleSlope=0.25, RescaleIntercept=-1024)


def modality_lut_sequence_and_window(p: np.ndarray) -> bytes:
    # A 12-bit image through a 16-bit Modality LUT (x = 16 i), then a window in those units.
    lut = lut_item(entries=4096, first=0, depth=16, data=np.arange(4096) * 16)
    centre, width = window_for(16 * 16, 16 * 8)
    return dicom_of(
        p * 16 + 8,
        bits_stored=12,
        ModalityLUTSequence=Sequence([lut]),
        WindowCenter=centre,
        WindowWidth=width,
    )


def voi_lut_sequence(p: np.ndarray) -> bytes:
    # A VOI LUT with 10-bit entries answers in 0..1023, whatever the stored depth (12 bits here).
    entries = np.rint(np.arange(4096) * 1023 / 4095)
    lut = lut_item(entries=4096, first=0, depth=10, data=entries)
    return dicom_of(p * 16 + 8, bits_stored=12, VOILUTSequence=Sequence([lut]))


def several_windows(p: np.ndarray) -> bytes:
    # The first window is the default view; the others are alternatives a viewer may offer.
    centre, width = window_for(16, 8)
    return dicom_of(
        p * 16 + 8, bits_stored=12, WindowCenter=[centre, 300.0, 3000.0], WindowWidth=[width, 200.0, 500.0]
    )


def signed_with_window(p: np.ndarray) -> bytes:
    centre, width = window_for(16, -2048 + 8)
    return dicom_of(p * 16 - 2040, bits_stored=12, signed=True, WindowCenter=centre, WindowWidth=width)


def signed_without_window(p: np.ndarray) -> bytes:
    return dicom_of(p * 257 - 32768, bits_stored=16, signed=True)


def sixteen_bit_monochrome1(p: np.ndarray) -> bytes:
    return dicom_of(65535 - p * 257, bits_stored=16, PhotometricInterpretation="MONOCHROME1")


def monochrome1_with_inverse_shape(p: np.ndarray) -> bytes:
    # DX images pair MONOCHROME1 with Presentation LUT Shape INVERSE: one inversion, not two.
    return dicom_of(
        65535 - p * 257,
        bits_stored=16,
        PhotometricInterpretation="MONOCHROME1",
        PresentationLUTShape="INVERSE",
    )


def monochrome2_with_inverse_shape(p: np.ndarray) -> bytes:
    return dicom_of(65535 - p * 257, bits_stored=16, PresentationLUTShape="INVERSE")


def sigmoid_window(p: np.ndarray) -> bytes:
    # A sigmoid window is not linear: its expectation is computed in the test below.
    return dicom_of(p * 16 + 8, bits_stored=12, WindowCenter=2048, WindowWidth=4096, VOILUTFunction="SIGMOID")


SAME_AS_PNG = [
    rescale_and_window,
    rescale_without_window,
    modality_lut_sequence_and_window,
    voi_lut_sequence,
    several_windows,
    signed_with_window,
    signed_without_window,
    sixteen_bit_monochrome1,
    monochrome1_with_inverse_shape,
    monochrome2_with_inverse_shape,
]


@pytest.mark.parametrize("make", SAME_AS_PNG, ids=[make.__name__ for make in SAME_AS_PNG])
def test_dicom_through_its_luts_shows_the_radiographs_grey_levels_within_one_level(make, grey_levels):
    pixels = decode_radiograph(make(grey_levels)).pixels
    np.testing.assert_allclose(pixels * 255, grey_levels, atol=1.0)


def test_sigmoid_window_follows_the_standards_formula(grey_levels):
    pixels = decode_radiograph(sigmoid_window(grey_levels)).pixels
    modality = grey_levels * 16 + 8
    expected = 1 / (1 + np.exp(-4 * (modality - 2048) / 4096))
    np.testing.assert_allclose(pixels * 255, expected * 255, atol=1.0)


def test_stored_copy_keeps_the_luts_so_it_shows_the_same_grey_levels(grey_levels):
    from ml.images.dicom import deidentified_copy

    for make in (modality_lut_sequence_and_window, voi_lut_sequence, monochrome2_with_inverse_shape):
        data = make(grey_levels)
        copy = decode_radiograph(deidentified_copy(data)).pixels
        np.testing.assert_array_equal(copy, decode_radiograph(data).pixels)


@pytest.fixture(scope="module")
def png_findings(untrained_engine, grey_levels) -> dict[str, float]:
    buffer = io.BytesIO()
    Image.fromarray(grey_levels.astype(np.uint8)).save(buffer, format="PNG")
    return Pipeline.for_engine(untrained_engine)(buffer.getvalue()).probabilities


@pytest.mark.parametrize("make", SAME_AS_PNG, ids=[make.__name__ for make in SAME_AS_PNG])
def test_dicom_findings_match_the_same_image_uploaded_as_png(
    make, untrained_engine, grey_levels, png_findings
):
    dicom_findings = Pipeline.for_engine(untrained_engine)(make(grey_levels)).probabilities
    assert dicom_findings.keys() == png_findings.keys()
    for label, probability in png_findings.items():
        assert abs(dicom_findings[label] - probability) <= 0.01, (label, dicom_findings[label], probability)
