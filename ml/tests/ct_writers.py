"""CT test data written by the tests themselves: DICOM slices and enhanced multi-frame files
(pydicom), NIfTI volumes (nibabel), and MosMedData-layout folders with a planted signal."""

from __future__ import annotations

import io
from pathlib import Path

import nibabel
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


def write_nifti(
    path: Path, hounsfield: np.ndarray, zooms: tuple[float, float, float] = (0.8, 0.8, 5.0)
) -> None:
    """Save (slices, rows, columns) HU as NIfTI, whose axes are (columns, rows, slices)."""
    image = nibabel.Nifti1Image(np.transpose(hounsfield, (2, 1, 0)).astype(np.int16), np.diag([*zooms, 1.0]))
    image.header.set_zooms(zooms)
    nibabel.save(image, path)


def planted_volume(rng: np.random.Generator, severe: bool, slices: int = 8, size: int = 32) -> np.ndarray:
    """Lung-like noise around -850 HU; a severe volume has bright opacities (about -100 HU) on its slices."""
    volume = rng.normal(-850.0, 60.0, (slices, size, size))
    if severe:
        for index in range(slices):
            for _ in range(3):
                row, column = rng.integers(4, size - 4, 2)
                volume[index, row - 3 : row + 3, column - 3 : column + 3] = rng.normal(-100.0, 40.0)
    return volume


def write_mosmed(
    root: Path,
    severe: list[bool],
    *,
    seed: int,
    graded: list[bool] | None = None,
    slices: int = 8,
    size: int = 32,
) -> Path:
    """studies/CT-0 (mild) and CT-3 (severe) NIfTI volumes, one a patient, with ``severe[i]``'s signal.

    ``graded`` files a volume under a grade other than its signal's (shuffled labels).
    """
    rng = np.random.default_rng(seed)
    graded = severe if graded is None else graded
    for number, (is_severe, graded_severe) in enumerate(zip(severe, graded, strict=True), start=1):
        folder = root / "studies" / ("CT-3" if graded_severe else "CT-0")
        folder.mkdir(parents=True, exist_ok=True)
        write_nifti(folder / f"study_{number:04d}.nii.gz", planted_volume(rng, is_severe, slices, size))
    return root
