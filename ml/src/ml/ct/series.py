"""Read a chest CT series into Hounsfield units: DICOM slices (a folder or a zip), one
multi-frame DICOM (enhanced CT), or a NIfTI volume (training data such as MosMedData).

Everything from outside is checked before pixels are decoded: a zip's members (``ml.ct.zip_members``:
names, count, sizes and expansion, checked while inflating), the number of slices and voxels,
the modality (CT only), one series per upload, and slices of one size. Refusals are
``ml.errors.ImageError``s whose messages say what is wrong with the upload.
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from ml.ct.zip_members import dicom_members
from ml.errors import ImageDecodeError, ImageRejectedError, ImageTooLargeError, UnsupportedImageError

MAX_SLICES = 2000
MAX_SLICE_SIDE = 2048
# 2**28 voxels are 1 GiB of float32 Hounsfield units.
MAX_VOXELS = 1 << 28
NIFTI_SUFFIXES = (".nii", ".nii.gz")
_ZIP_MAGIC = b"PK\x03\x04"
_DICOM_MAGIC_OFFSET = 128


@dataclass(frozen=True)
class CTSeries:
    """A CT volume in Hounsfield units, slices ordered along the slice normal.

    ``hounsfield`` is (slices, rows, columns) float32; ``spacing`` is (between slices, between
    rows, between columns) in mm, None where the file does not say; ``slice_positions`` is
    each slice's position along the normal in mm (its index where positions are unknown);
    ``series_uid`` and ``study_uid`` are the DICOM UIDs as uploaded (None for NIfTI);
    ``source`` is "dicom-slices", "dicom-multiframe" or "nifti".
    """

    hounsfield: np.ndarray
    spacing: tuple[float | None, float | None, float | None]
    series_uid: str | None
    study_uid: str | None
    slice_positions: tuple[float, ...]
    source: str

    @property
    def slices(self) -> int:
        return int(self.hounsfield.shape[0])


def read_ct_series(data: bytes | str | os.PathLike[str]) -> CTSeries:
    """Read a series from the bytes of a zip or a DICOM file, or from a folder or file path.

    A path may name a folder of single-slice DICOM files, a zip, a DICOM file or a NIfTI
    volume (``.nii``/``.nii.gz``). Raises an ``ImageError`` subclass for anything refused.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        return _read_bytes(bytes(data))
    path = Path(data)
    if path.is_dir():
        return _read_folder(path)
    if not path.is_file():
        raise ImageDecodeError(f"{path} is neither a file nor a folder.")
    if path.name.lower().endswith(NIFTI_SUFFIXES):
        return read_nifti(path)
    try:
        return _read_bytes(path.read_bytes())
    except OSError as error:
        raise ImageDecodeError(f"{path} cannot be read ({error.strerror or error}).") from error


def _read_bytes(data: bytes) -> CTSeries:
    return series_from_datasets(read_ct_datasets(data))


def is_zip(data: bytes) -> bool:
    return data.startswith(_ZIP_MAGIC)


def read_ct_datasets(data: bytes) -> list[Dataset]:
    """The DICOM files of a zip's members, or the one file, parsed but not yet checked as a series
    (``series_from_datasets`` does that); an ``ImageError`` for a zip or file that cannot be read."""
    if is_zip(data):
        return [_parse_dicom(content, name) for name, content in dicom_members(data)]
    if data[_DICOM_MAGIC_OFFSET : _DICOM_MAGIC_OFFSET + 4] == b"DICM":
        return [_parse_dicom(data, "the upload")]
    raise UnsupportedImageError("A CT series must be a zip of DICOM slices or a (multi-frame) DICOM file.")


def _read_folder(folder: Path) -> CTSeries:
    files = sorted(path for path in folder.rglob("*") if path.is_file() and not path.name.startswith("."))
    if not files:
        raise ImageDecodeError(f"The folder {folder} holds no files.")
    if len(files) > MAX_SLICES:
        raise ImageTooLargeError(f"The folder {folder} holds {len(files)} files, over {MAX_SLICES} slices.")
    datasets = []
    for path in files:
        if path.name.upper() == "DICOMDIR":
            continue
        try:
            datasets.append(_parse_dicom(path.read_bytes(), str(path.relative_to(folder))))
        except OSError as error:
            raise ImageDecodeError(f"{path} cannot be read ({error.strerror or error}).") from error
    return series_from_datasets(datasets)


def _parse_dicom(data: bytes, name: str) -> Dataset:
    try:
        return pydicom.dcmread(io.BytesIO(data))
    except (InvalidDicomError, EOFError, ValueError, TypeError, KeyError, OSError) as error:
        raise ImageDecodeError(f"{name} is not a readable DICOM file.") from error


def _require_ct(dataset: Dataset, name: str) -> None:
    modality = str(dataset.get("Modality", "") or "").strip().upper()
    if modality != "CT":
        raise ImageRejectedError(
            f"{name} is not a CT image (its modality is {modality or 'not given'}).",
            reason="not a CT series",
            tag="Modality",
        )


def series_from_datasets(datasets: Sequence[Dataset]) -> CTSeries:
    """Stack single-frame CT slices of one series in order along the slice normal (or read the one
    multi-frame file), refusing anything that is not one CT series."""
    if not datasets:
        raise ImageDecodeError("The upload holds no DICOM slices.")
    if len(datasets) == 1 and int(datasets[0].get("NumberOfFrames", 1) or 1) > 1:
        # A zip or folder holding one enhanced CT file.
        return _multiframe_series(datasets[0])
    if len(datasets) > MAX_SLICES:
        raise ImageTooLargeError(f"The series has {len(datasets)} slices, over {MAX_SLICES}.")
    for number, dataset in enumerate(datasets, start=1):
        _require_ct(dataset, f"Slice {number}")
        if int(dataset.get("NumberOfFrames", 1) or 1) > 1:
            raise ImageRejectedError(
                "A multi-frame DICOM file must be uploaded on its own, not among slices.",
                reason="multi-frame file among slices",
                tag="NumberOfFrames",
            )
    series_uids = {str(dataset.get("SeriesInstanceUID", "") or "") for dataset in datasets}
    if "" in series_uids:
        raise ImageRejectedError(
            "A slice has no Series Instance UID.", reason="slice without series", tag="SeriesInstanceUID"
        )
    if len(series_uids) > 1:
        raise ImageRejectedError(
            f"The upload mixes {len(series_uids)} series; upload one series at a time.",
            reason="several series",
            tag="SeriesInstanceUID",
        )
    shapes = {(int(dataset.get("Rows", 0) or 0), int(dataset.get("Columns", 0) or 0)) for dataset in datasets}
    if len(shapes) > 1:
        raise ImageRejectedError(
            f"The slices differ in size ({', '.join(f'{r}x{c}' for r, c in sorted(shapes))}).",
            reason="slices of different sizes",
            tag="Rows",
        )
    rows, columns = shapes.pop()
    _check_size(len(datasets), rows, columns)
    positions = _positions(datasets)
    if positions is not None:
        order = _order_by_position(positions)
    else:
        numbers = [dataset.get("InstanceNumber") for dataset in datasets]
        if any(number is None for number in numbers):
            raise ImageRejectedError(
                "The slices carry neither positions nor instance numbers to order them by.",
                reason="slices cannot be ordered",
                tag="InstanceNumber",
            )
        order = np.argsort([int(number) for number in numbers], kind="stable")
    volume = np.empty((len(datasets), rows, columns), dtype=np.float32)
    for target, index in enumerate(order):
        dataset = datasets[index]
        volume[target] = _hounsfield(
            _pixels(dataset), dataset.get("RescaleSlope"), dataset.get("RescaleIntercept")
        )
    first = datasets[order[0]]
    sorted_positions = [float(positions[i]) for i in order] if positions is not None else None
    return CTSeries(
        hounsfield=volume,
        spacing=(_slice_spacing(sorted_positions, first), *_pixel_spacing(first.get("PixelSpacing"))),
        series_uid=str(first.get("SeriesInstanceUID")),
        study_uid=_text(first.get("StudyInstanceUID")),
        slice_positions=tuple(sorted_positions or (float(i) for i in range(len(datasets)))),
        source="dicom-slices",
    )


def _multiframe_series(dataset: Dataset) -> CTSeries:
    """An enhanced (multi-frame) CT: per-frame rescale and position from the functional groups."""
    _require_ct(dataset, "The file")
    frames = int(dataset.NumberOfFrames)
    rows, columns = int(dataset.get("Rows", 0) or 0), int(dataset.get("Columns", 0) or 0)
    _check_size(frames, rows, columns)
    shared = _first_item(dataset, "SharedFunctionalGroupsSequence")
    per_frame = list(dataset.get("PerFrameFunctionalGroupsSequence", []) or [])
    if per_frame and len(per_frame) != frames:
        raise ImageDecodeError(f"The file has {frames} frames but functional groups for {len(per_frame)}.")
    pixels = _pixels(dataset).reshape(frames, rows, columns)
    volume = np.empty((frames, rows, columns), dtype=np.float32)
    orientation = _group_value(shared, "PlaneOrientationSequence", "ImageOrientationPatient") or dataset.get(
        "ImageOrientationPatient"
    )
    raw_positions = []
    for index in range(frames):
        group = per_frame[index] if per_frame else None
        slope = _group_value(group, "PixelValueTransformationSequence", "RescaleSlope")
        intercept = _group_value(group, "PixelValueTransformationSequence", "RescaleIntercept")
        if slope is None and intercept is None:
            slope = _group_value(shared, "PixelValueTransformationSequence", "RescaleSlope")
            intercept = _group_value(shared, "PixelValueTransformationSequence", "RescaleIntercept")
        if slope is None and intercept is None:
            slope, intercept = dataset.get("RescaleSlope"), dataset.get("RescaleIntercept")
        volume[index] = _hounsfield(pixels[index], slope, intercept)
        raw_positions.append(_group_value(group, "PlanePositionSequence", "ImagePositionPatient"))
    positions = None
    if orientation is not None and all(position is not None for position in raw_positions):
        normal = _normal(orientation)
        positions = [
            float(np.dot(np.asarray(position, dtype=np.float64), normal)) for position in raw_positions
        ]
    order = _order_by_position(positions) if positions is not None else np.arange(frames)
    sorted_positions = [positions[i] for i in order] if positions is not None else None
    spacing = _group_value(shared, "PixelMeasuresSequence", "PixelSpacing") or dataset.get("PixelSpacing")
    return CTSeries(
        hounsfield=volume[order],
        spacing=(_slice_spacing(sorted_positions, dataset), *_pixel_spacing(spacing)),
        series_uid=_text(dataset.get("SeriesInstanceUID")),
        study_uid=_text(dataset.get("StudyInstanceUID")),
        slice_positions=tuple(sorted_positions or (float(i) for i in range(frames))),
        source="dicom-multiframe",
    )


def read_nifti(path: str | os.PathLike[str]) -> CTSeries:
    """A NIfTI volume already in Hounsfield units (as MosMedData's), slices along its third axis."""
    import nibabel

    path = Path(path)
    try:
        image = nibabel.load(path)
        shape = tuple(int(side) for side in image.shape)
    except (OSError, ValueError, EOFError, gzip.BadGzipFile, nibabel.filebasedimages.ImageFileError) as error:
        raise ImageDecodeError(f"{path} is not a readable NIfTI volume.") from error
    if len(shape) == 4 and shape[3] == 1:
        shape = shape[:3]
    if len(shape) != 3:
        raise ImageDecodeError(f"{path} is a {len(shape)}-dimensional image, not a CT volume.")
    columns, rows, slices = shape
    _check_size(slices, rows, columns)
    try:
        data = np.asarray(image.dataobj, dtype=np.float32).reshape(shape)
    except (OSError, ValueError, EOFError, gzip.BadGzipFile) as error:
        raise ImageDecodeError(f"{path} is truncated or damaged.") from error
    if not np.all(np.isfinite(data)):
        raise ImageDecodeError(f"{path} holds voxels that are not numbers.")
    zooms = [float(zoom) for zoom in image.header.get_zooms()[:3]]
    # NIfTI's first axis runs along a row (x) and its second down the columns (y).
    volume = np.ascontiguousarray(np.transpose(data, (2, 1, 0)))
    return CTSeries(
        hounsfield=volume,
        spacing=(zooms[2] or None, zooms[1] or None, zooms[0] or None),
        series_uid=None,
        study_uid=None,
        slice_positions=tuple(float(index * (zooms[2] or 1.0)) for index in range(slices)),
        source="nifti",
    )


def _check_size(slices: int, rows: int, columns: int) -> None:
    if rows < 1 or columns < 1 or slices < 1:
        raise ImageDecodeError("The series has no pixels (zero rows, columns or slices).")
    if slices > MAX_SLICES:
        raise ImageTooLargeError(f"The series has {slices} slices, over {MAX_SLICES}.")
    if max(rows, columns) > MAX_SLICE_SIDE:
        raise ImageTooLargeError(
            f"The slices are {rows}x{columns}, larger than {MAX_SLICE_SIDE} pixels a side."
        )
    if slices * rows * columns > MAX_VOXELS:
        raise ImageTooLargeError(f"The series has {slices * rows * columns:,} voxels, over {MAX_VOXELS:,}.")


def _pixels(dataset: Dataset) -> np.ndarray:
    try:
        return np.asarray(dataset.pixel_array)
    except Exception as error:  # pydicom's pixel handlers raise many types for damaged data
        raise ImageDecodeError("A slice's pixel data cannot be decoded.") from error


def _hounsfield(stored: np.ndarray, slope: Any, intercept: Any) -> np.ndarray:
    """Modality LUT of CT: HU = stored value x RescaleSlope + RescaleIntercept."""
    slope_value = _number(slope, 1.0)
    intercept_value = _number(intercept, 0.0)
    if slope_value == 0.0:
        raise ImageDecodeError("A slice's rescale slope is zero.")
    return (stored.astype(np.float64) * slope_value + intercept_value).astype(np.float32)


def _order_by_position(positions: list[float]) -> np.ndarray:
    """Slice indices from the lowest position to the highest; two slices at one position are refused."""
    order = np.argsort(positions, kind="stable")
    if np.any(np.diff(np.asarray(positions)[order]) == 0):
        raise ImageRejectedError(
            "Two slices lie at the same position.", reason="duplicate slices", tag="ImagePositionPatient"
        )
    return order


def _positions(datasets: Sequence[Dataset]) -> list[float] | None:
    """Each slice's position along the normal of the first slice's orientation, or None if any is missing."""
    orientation = datasets[0].get("ImageOrientationPatient")
    if orientation is None or any(dataset.get("ImagePositionPatient") is None for dataset in datasets):
        return None
    normal = _normal(orientation)
    for dataset in datasets[1:]:
        other = dataset.get("ImageOrientationPatient")
        # A scout or a reformat filed under the same series lies in another plane.
        if other is None or not np.allclose(_normal(other), normal, atol=1e-3):
            raise ImageRejectedError(
                "The slices do not all lie in one plane (a scout or reformatted image among them?).",
                reason="slices in different planes",
                tag="ImageOrientationPatient",
            )
    return [
        float(np.dot(np.asarray(dataset.ImagePositionPatient, dtype=np.float64), normal))
        for dataset in datasets
    ]


def _normal(orientation: Sequence[Any]) -> np.ndarray:
    values = np.asarray([float(value) for value in orientation], dtype=np.float64)
    if values.shape != (6,):
        raise ImageDecodeError("The image orientation does not have six values.")
    normal = np.cross(values[:3], values[3:])
    length = float(np.linalg.norm(normal))
    if length < 1e-6:
        raise ImageDecodeError("The image orientation's row and column directions are parallel.")
    return normal / length


def _slice_spacing(positions: list[float] | None, dataset: Dataset) -> float | None:
    if positions is not None and len(positions) > 1:
        return float(np.median(np.diff(positions)))
    for keyword in ("SpacingBetweenSlices", "SliceThickness"):
        value = _number(dataset.get(keyword), None)
        if value:
            return value
    return None


def _pixel_spacing(value: Any) -> tuple[float | None, float | None]:
    if value is None or len(value) != 2:
        return None, None
    return _number(value[0], None), _number(value[1], None)


def _first_item(dataset: Dataset | None, keyword: str) -> Dataset | None:
    sequence = dataset.get(keyword) if dataset is not None else None
    return sequence[0] if sequence else None


def _group_value(group: Dataset | None, sequence: str, keyword: str) -> Any:
    item = _first_item(group, sequence)
    return item.get(keyword) if item is not None else None


def _number(value: Any, default: float | None) -> float | None:
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise ImageDecodeError(f"A numeric DICOM attribute holds {value!r}.") from error
    if not np.isfinite(number):
        raise ImageDecodeError("A numeric DICOM attribute is not a finite number.")
    return number


def _text(value: Any) -> str | None:
    return str(value) if value else None
