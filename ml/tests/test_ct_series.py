"""Reading CT series: DICOM slices (folder, zip), enhanced multi-frame DICOM, NIfTI; the lung
window; refusals; the slice-curve strip."""

from __future__ import annotations

import io
import zipfile

import cv2
import numpy as np
import pytest
from ct_writers import ct_slice, enhanced_ct, write_nifti

from ml.ct import zip_members
from ml.ct.analyser import CTResult
from ml.ct.card import untrained_ct_card
from ml.ct.series import read_ct_series
from ml.ct.strip import ct_strip_png
from ml.ct.window import LungWindow, apply_window, network_slices
from ml.errors import ImageDecodeError, ImageRejectedError, ImageTooLargeError, UnsupportedImageError

SLOPE, INTERCEPT = 2.0, -1024.0
SAGITTAL = [0.0, 1.0, 0.0, 0.0, 0.0, -1.0]


def stored_slices(count: int = 5, rows: int = 6, columns: int = 7) -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(-200, 900, (count, rows, columns)).astype(np.int16)


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def shuffled_series(stored: np.ndarray) -> dict[str, bytes]:
    """Slices at z = 10, 12.5, 15 ... named so that the file order is not the anatomical one."""
    order = [3, 0, 4, 1, 2][: len(stored)]
    return {
        f"file_{position:02d}.dcm": ct_slice(
            stored[index], z=10.0 + 2.5 * index, instance=len(stored) - index
        )
        for position, index in enumerate(order)
    }


def test_dicom_folder_is_sorted_by_position_and_converted_to_hounsfield_exactly(tmp_path):
    stored = stored_slices()
    for name, content in shuffled_series(stored).items():
        (tmp_path / name).write_bytes(content)
    series = read_ct_series(tmp_path)
    expected = stored.astype(np.float64) * SLOPE + INTERCEPT
    np.testing.assert_array_equal(series.hounsfield, expected.astype(np.float32))
    assert series.hounsfield.dtype == np.float32
    assert series.slice_positions == (10.0, 12.5, 15.0, 17.5, 20.0)
    assert series.spacing == (2.5, 0.7, 0.8)
    assert (series.series_uid, series.study_uid, series.source) == ("1.2.3.4", "1.2.3", "dicom-slices")


def test_zip_of_slices_reads_as_the_folder_does():
    stored = stored_slices()
    members = shuffled_series(stored) | {"__MACOSX/._file_00.dcm": b"resource fork"}
    series = read_ct_series(zip_bytes(members))
    np.testing.assert_array_equal(series.hounsfield, (stored * SLOPE + INTERCEPT).astype(np.float32))


def test_slices_without_positions_are_ordered_by_instance_number():
    stored = stored_slices(3)
    members = {
        f"{name}.dcm": ct_slice(stored[i], z=None, instance=i + 1)
        for i, name in zip([2, 0, 1], "abc", strict=True)
    }
    series = read_ct_series(zip_bytes(members))
    np.testing.assert_array_equal(series.hounsfield, (stored * SLOPE + INTERCEPT).astype(np.float32))
    assert series.spacing[0] is None


def test_multiframe_applies_each_frames_rescale_and_sorts_by_frame_position():
    stored = stored_slices(3)
    zs, slopes, intercepts = [30.0, 10.0, 20.0], [1.0, 2.0, 0.5], [-1000.0, -1024.0, -900.0]
    series = read_ct_series(enhanced_ct(stored, zs, slopes, intercepts))
    frames = [stored[i] * slopes[i] + intercepts[i] for i in range(3)]
    expected = np.stack([frames[1], frames[2], frames[0]]).astype(np.float32)
    np.testing.assert_array_equal(series.hounsfield, expected)
    assert series.slice_positions == (10.0, 20.0, 30.0)
    assert series.spacing == (10.0, 0.6, 0.6)
    assert series.source == "dicom-multiframe"
    # The same file zipped on its own reads the same.
    zipped = read_ct_series(zip_bytes({"enhanced.dcm": enhanced_ct(stored, zs, slopes, intercepts)}))
    np.testing.assert_array_equal(zipped.hounsfield, expected)


def test_nifti_volume_is_read_in_hounsfield_units_slice_by_slice(tmp_path):
    volume = np.random.default_rng(2).integers(-1024, 400, (4, 5, 6)).astype(np.float32)
    path = tmp_path / "study_0001.nii.gz"
    write_nifti(path, volume, zooms=(0.7, 0.8, 5.0))
    series = read_ct_series(path)
    np.testing.assert_array_equal(series.hounsfield, volume)
    assert series.spacing == pytest.approx((5.0, 0.8, 0.7))
    assert series.slice_positions == pytest.approx((0.0, 5.0, 10.0, 15.0))


def test_lung_window_maps_its_edges_and_centre_exactly_and_clips_outside():
    hounsfield = np.array([[-2000.0, -1350.0, -600.0, 150.0, 3000.0]], dtype=np.float32)
    np.testing.assert_array_equal(apply_window(hounsfield, LungWindow()), [[0.0, 0.0, 0.5, 1.0, 1.0]])


def test_network_slices_are_windowed_resized_with_opencv_and_in_256_levels():
    hounsfield = np.random.default_rng(3).uniform(-1400, 200, (2, 64, 64)).astype(np.float32)
    slices = network_slices(hounsfield, LungWindow(), 32)
    assert slices.shape == (2, 32, 32, 1)
    expected = cv2.resize(apply_window(hounsfield[1], LungWindow()), (32, 32), interpolation=cv2.INTER_AREA)
    np.testing.assert_allclose(slices[1, ..., 0], np.round(expected * 255) / 255, atol=1e-6)


@pytest.mark.parametrize(
    ("members", "error", "words"),
    [
        (
            {
                "a.dcm": ct_slice(np.zeros((4, 4)), z=0.0),
                "b.dcm": ct_slice(np.zeros((4, 4)), z=1.0, series_uid="9.9"),
            },
            ImageRejectedError,
            "mixes 2 series",
        ),
        ({"a.dcm": ct_slice(np.zeros((4, 4)), z=0.0, modality="MR")}, ImageRejectedError, "modality is MR"),
        (
            {"a.dcm": ct_slice(np.zeros((4, 4)), z=0.0), "b.dcm": ct_slice(np.zeros((4, 5)), z=1.0)},
            ImageRejectedError,
            "differ in size",
        ),
        (
            {"a.dcm": ct_slice(np.zeros((4, 4)), z=0.0), "b.dcm": ct_slice(np.zeros((4, 4)), z=0.0)},
            ImageRejectedError,
            "same position",
        ),
        (
            {
                "a.dcm": ct_slice(np.zeros((4, 4)), z=0.0),
                "b.dcm": ct_slice(np.zeros((4, 4)), z=1.0, orientation=SAGITTAL),
            },
            ImageRejectedError,
            "one plane",
        ),
        ({"a.dcm": b"not a dicom file at all"}, ImageDecodeError, "not a readable DICOM"),
    ],
)
def test_zip_refusals_say_what_is_wrong(members, error, words):
    with pytest.raises(error, match=words):
        read_ct_series(zip_bytes(members))


def test_zip_with_too_many_members_is_refused_before_reading_them(monkeypatch):
    monkeypatch.setattr(zip_members, "MAX_ZIP_MEMBERS", 3)
    members = {f"{i}.dcm": b"x" for i in range(4)}
    with pytest.raises(ImageTooLargeError, match="4 files; at most 3"):
        read_ct_series(zip_bytes(members))


def test_zip_expanding_beyond_the_cap_is_refused_before_extraction(monkeypatch):
    monkeypatch.setattr(zip_members, "MAX_ZIP_UNCOMPRESSED_BYTES", 1 << 20)
    with pytest.raises(ImageTooLargeError, match="expands to"):
        read_ct_series(zip_bytes({"big.dcm": bytes(2 << 20)}))


def test_damaged_zip_and_other_formats_are_refused():
    with pytest.raises(ImageDecodeError, match="damaged"):
        read_ct_series(b"PK\x03\x04" + bytes(40))
    with pytest.raises(UnsupportedImageError, match="zip of DICOM slices"):
        read_ct_series(b"\x89PNG\r\n\x1a\n" + bytes(200))


def test_strip_png_has_the_requested_size_and_marks_slices_above_the_threshold():
    result = CTResult(
        untrained_ct_card(),
        (0.1, 0.9, 0.2),
        patient_probability=0.4,
        threshold=0.5,
        positive=False,
        aggregation="mean",
    )
    image = cv2.imdecode(
        np.frombuffer(ct_strip_png(result, width=120, height=30), np.uint8), cv2.IMREAD_COLOR
    )
    assert image.shape == (30, 120, 3)
    orange = np.all(image == (0, 140, 255), axis=2)
    blue = np.all(image == (230, 200, 120), axis=2)
    # Only the peak at the middle slice (0.9) reaches the threshold; the ends (0.1, 0.2) are below it.
    assert orange[:, 45:75].any() and not orange[:, :20].any() and not orange[:, 100:].any()
    assert blue[:, :20].any() and blue[:, 100:].any()
