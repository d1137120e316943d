"""The pipeline's CT intake and analysis: routing, de-identified storage, the display slice, the
prepared 8-bit input, and the patient's result from it as from the series itself."""

from __future__ import annotations

import io
import zipfile

import cv2
import numpy as np
import pydicom
import pytest

from ml.analysers import AnalyserWeights
from ml.ct.analyser import CTAnalyser
from ml.ct.card import CT_KIND
from ml.ct.intake import PreparedCT, is_ct_series
from ml.ct.series import read_ct_series
from ml.ct.synthetic import ct_slice, enhanced_ct, shuffled_series_zip
from ml.ct.window import network_slices_uint8
from ml.errors import ImageDecodeError, ImageRejectedError, UnsupportedImageError
from ml.pipeline import Pipeline


def ct_pipeline() -> Pipeline:
    return Pipeline(threads=1, analysers=AnalyserWeights(kinds=(CT_KIND,)))


def test_uploads_are_routed_by_zip_magic_or_a_multiframe_ct_and_a_single_ct_slice_is_not_a_series():
    data, _ = shuffled_series_zip(2)
    assert is_ct_series(data)
    assert is_ct_series(
        enhanced_ct(np.zeros((2, 4, 4)), zs=[0.0, 1.0], slopes=[1.0] * 2, intercepts=[0.0] * 2)
    )
    assert not is_ct_series(ct_slice(np.zeros((4, 4)), z=0.0))
    assert not is_ct_series(ct_slice(np.zeros((4, 4)), z=0.0, modality="MR"))
    assert not is_ct_series(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200)


def test_zip_intake_stores_a_readable_deidentified_series_and_prepares_every_slice():
    data, hounsfield = shuffled_series_zip()
    pipeline = ct_pipeline()
    intake = pipeline.intake(data)
    assert intake.format == "zip" and intake.series.slices == 5
    assert (intake.series.rows, intake.series.columns) == (40, 48)
    assert "patient" in intake.identifying_words

    with zipfile.ZipFile(io.BytesIO(intake.stored_bytes)) as archive:
        names = archive.namelist()
        slices = [pydicom.dcmread(io.BytesIO(archive.read(name))) for name in names]
    assert all(name.startswith("slice-") for name in names)
    assert all(str(s.get("PatientName", "")) == "" and str(s.get("PatientID", "")) == "" for s in slices)
    assert b"Test^Patient" not in intake.stored_bytes
    assert len({s.SeriesInstanceUID for s in slices}) == 1 and slices[0].SeriesInstanceUID != "1.2.3.4"
    stored_series = read_ct_series(intake.stored_bytes)
    np.testing.assert_array_equal(stored_series.hounsfield, hounsfield)

    card = pipeline.card(CT_KIND)
    np.testing.assert_array_equal(
        intake.prepared.grey_levels, network_slices_uint8(hounsfield, card.window, card.input_size)
    )
    again = PreparedCT.from_bytes(intake.prepared.to_bytes())
    np.testing.assert_array_equal(again.grey_levels, intake.prepared.grey_levels)
    display = cv2.imdecode(np.frombuffer(intake.display_png, np.uint8), cv2.IMREAD_UNCHANGED)
    assert display.shape == (40, 48) and display.dtype == np.uint8
    low = card.window.centre - card.window.width / 2
    expected = np.round(np.clip((hounsfield[2] - low) / card.window.width, 0, 1) * 255)
    np.testing.assert_allclose(display, expected, atol=1)


def test_multiframe_intake_keeps_one_deidentified_file_with_its_frames_geometry():
    stored = np.random.default_rng(2).integers(0, 1000, (3, 16, 16))
    data = enhanced_ct(stored, zs=[5.0, 0.0, 2.5], slopes=[1.0, 2.0, 1.0], intercepts=[-1024.0] * 3)
    intake = ct_pipeline().intake(data)
    assert intake.format == "dicom" and intake.series.source == "dicom-multiframe"
    assert b"Test^Patient" not in intake.stored_bytes
    np.testing.assert_array_equal(
        read_ct_series(intake.stored_bytes).hounsfield, read_ct_series(data).hounsfield
    )


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (shuffled_series_zip(3, modality="MR")[0], ImageRejectedError),
        (b"PK\x03\x04broken", ImageDecodeError),
    ],
)
def test_intake_refuses_what_is_not_one_ct_series(data, error):
    with pytest.raises(error):
        ct_pipeline().intake(data)


def test_a_pipeline_without_the_ct_analyser_refuses_a_series_as_unsupported():
    with pytest.raises(UnsupportedImageError, match="CT series are not analysed here"):
        Pipeline().intake(shuffled_series_zip(3)[0])


def test_running_the_ct_kind_on_the_prepared_input_matches_the_analyser_on_the_series():
    data, _ = shuffled_series_zip(3)
    pipeline = ct_pipeline()
    [result] = pipeline.run(CT_KIND, [pipeline.intake(data).prepared])
    direct = CTAnalyser.load(None, threads=1).score(read_ct_series(data))
    assert result.slice_probabilities == pytest.approx(direct.slice_probabilities, abs=1e-5)
    assert result.patient_probability == pytest.approx(np.mean(result.slice_probabilities))
    assert result.aggregation == "mean" and result.positive == (result.patient_probability >= 0.5)
