"""Synthetic chest CT DICOM written with pydicom: single-frame slices and enhanced multi-frame
files, with a real rescale to Hounsfield units and a patient name to de-identify. The ml tests,
the service's tests and the web app's end-to-end test make their series with it
(``python -m ml.ct.synthetic OUT.zip`` writes a small shuffled series).
"""

from __future__ import annotations

import io
import sys
import zipfile

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, EnhancedCTImageStorage, ExplicitVRLittleEndian, generate_uid

ORIENTATION = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]


def _base(
    sop_class: str, *, modality: str, series_uid: str, study_uid: str, rows: int, columns: int
) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID = sop_class
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    dataset.Modality = modality
    dataset.SeriesInstanceUID = series_uid
    dataset.StudyInstanceUID = study_uid
    dataset.PatientName = "Test^Patient"
    dataset.Rows, dataset.Columns = rows, columns
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = "MONOCHROME2"
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = 16, 16, 15
    dataset.PixelRepresentation = 1
    return dataset


def _encode(dataset: Dataset) -> bytes:
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def ct_slice(
    stored: np.ndarray,
    *,
    z: float | None,
    slope: float = 2.0,
    intercept: float = -1024.0,
    instance: int | None = 1,
    modality: str = "CT",
    series_uid: str = "1.2.3.4",
    study_uid: str = "1.2.3",
    orientation: list[float] = ORIENTATION,
) -> bytes:
    """One single-frame CT slice whose stored values are ``stored`` (int16) at height ``z``."""
    dataset = _base(
        CTImageStorage,
        modality=modality,
        series_uid=series_uid,
        study_uid=study_uid,
        rows=stored.shape[0],
        columns=stored.shape[1],
    )
    dataset.RescaleSlope, dataset.RescaleIntercept = str(slope), str(intercept)
    dataset.PixelSpacing = [0.7, 0.8]
    if z is not None:
        dataset.ImagePositionPatient = [-100.0, -100.0, z]
        dataset.ImageOrientationPatient = orientation
    if instance is not None:
        dataset.InstanceNumber = instance
    dataset.PixelData = stored.astype("<i2").tobytes()
    return _encode(dataset)


def enhanced_ct(stored: np.ndarray, zs: list[float], slopes: list[float], intercepts: list[float]) -> bytes:
    """An enhanced (multi-frame) CT: per-frame rescale and positions in the functional groups."""
    frames, rows, columns = stored.shape
    dataset = _base(
        EnhancedCTImageStorage,
        modality="CT",
        series_uid="1.2.3.9",
        study_uid="1.2.3",
        rows=rows,
        columns=columns,
    )
    dataset.NumberOfFrames = frames
    shared = Dataset()
    orientation, measures = Dataset(), Dataset()
    orientation.ImageOrientationPatient = ORIENTATION
    measures.PixelSpacing = [0.6, 0.6]
    measures.SliceThickness = 1.5
    shared.PlaneOrientationSequence = Sequence([orientation])
    shared.PixelMeasuresSequence = Sequence([measures])
    dataset.SharedFunctionalGroupsSequence = Sequence([shared])
    per_frame = []
    for z, slope, intercept in zip(zs, slopes, intercepts, strict=True):
        group, position, transformation = Dataset(), Dataset(), Dataset()
        position.ImagePositionPatient = [0.0, 0.0, z]
        transformation.RescaleSlope, transformation.RescaleIntercept = str(slope), str(intercept)
        group.PlanePositionSequence = Sequence([position])
        group.PixelValueTransformationSequence = Sequence([transformation])
        per_frame.append(group)
    dataset.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    dataset.PixelData = stored.astype("<i2").tobytes()
    return _encode(dataset)


def shuffled_series_zip(
    count: int = 5, *, rows: int = 40, columns: int = 48, seed: int = 1, modality: str = "CT"
) -> tuple[bytes, np.ndarray]:
    """A zip of ``count`` slices 2.5 mm apart, written in a shuffled order under names that carry the
    patient's name; returns it and the Hounsfield units in slice order (slope 2, intercept -1024)."""
    rng = np.random.default_rng(seed)
    stored = rng.integers(0, 1500, (count, rows, columns))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in rng.permutation(count):
            archive.writestr(
                f"Test^Patient-{index}.dcm", ct_slice(stored[index], z=float(index) * 2.5, modality=modality)
            )
    return buffer.getvalue(), (stored * 2.0 - 1024.0).astype(np.float32)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].endswith(".zip"):
        print("usage: python -m ml.ct.synthetic OUT.zip", file=sys.stderr)
        return 2
    data, _ = shuffled_series_zip(8, rows=96, columns=96)
    with open(argv[0], "wb") as handle:
        handle.write(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
