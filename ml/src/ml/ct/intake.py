"""A CT series taken in by the service: routed, checked, de-identified and prepared, without a network.

``is_ct_series`` tells an upload that is a CT series (any zip, or a multi-frame DICOM file of Modality CT)
from a radiograph; ``take_in_ct`` reads it (``ml.ct.series``, every check before pixels are
decoded), keeps only a de-identified copy (``ml.images.dicom``'s allow-list, slice by slice, the
slices' places in the volume kept and one new series UID for all of them), renders the middle
slice in the card's lung window, and prepares every slice at the network's size as 8-bit grey
levels, so that the worker only runs the ResNet-18.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from ml.ct.analyser import CTAnalyser
from ml.ct.card import CTModelCard
from ml.ct.series import CTSeries, is_zip, read_ct_datasets, series_from_datasets
from ml.ct.window import apply_window
from ml.images.deidentification import words_of
from ml.images.dicom import deidentified_copy, identifying_values, is_dicom
from ml.images.rendering import encode_png

# Beyond the radiograph allow-list, what places a slice in its volume (nothing here names a
# patient): positions, orientation and order, and an enhanced CT's functional groups.
CT_GEOMETRY_ATTRIBUTES = (
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "InstanceNumber",
    "SliceThickness",
    "SpacingBetweenSlices",
    "NumberOfFrames",
    "SharedFunctionalGroupsSequence",
    "PerFrameFunctionalGroupsSequence",
)


def is_ct_series(data: bytes, *, dataset: Dataset | None = None) -> bool:
    """Whether an upload goes to the CT intake: a zip (of slices), or a multi-frame DICOM file of
    Modality CT. A single CT slice is not a series: it stays the radiograph intake's to refuse
    (a PACS sends a series slice by slice, and one study per slice would mean nothing).
    ``dataset`` is the DICOM file already read by the caller, so that its header is not parsed again."""
    if is_zip(data):
        return True
    if not is_dicom(data):
        return False
    header = dataset
    if header is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                header = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
        except Exception:  # an unreadable header is the radiograph intake's to refuse, with its message
            return False
    modality = str(header.get("Modality", "") or "").strip().upper()
    try:
        frames = int(header.get("NumberOfFrames", 1) or 1)
    except (TypeError, ValueError):
        return False
    return modality == "CT" and frames > 1


@dataclass(frozen=True)
class CTSeriesInfo:
    """What is kept of an accepted series besides its pixels."""

    slices: int
    rows: int
    columns: int
    spacing_mm: tuple[float | None, float | None, float | None]
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "modality": "CT",
            "slices": self.slices,
            "rows": self.rows,
            "columns": self.columns,
            "spacing_mm": list(self.spacing_mm),
            "source": self.source,
        }


@dataclass(frozen=True)
class PreparedCT:
    """Every slice windowed and resized for one CT card, as uint8 (slices, size, size)."""

    grey_levels: np.ndarray
    card_key: str

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, grey_levels=self.grey_levels, card_key=np.array(self.card_key))
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> PreparedCT:
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            return cls(grey_levels=stored["grey_levels"].astype(np.uint8), card_key=str(stored["card_key"]))


@dataclass(frozen=True)
class CTIntake:
    """An accepted CT series. ``format`` is ``zip`` (single-frame slices, stored as a zip) or
    ``dicom`` (one multi-frame file); ``stored_bytes`` is the only form in which it may be kept;
    ``identifying_words`` are the words of what de-identification left out."""

    series: CTSeriesInfo
    format: str
    stored_bytes: bytes
    display_png: bytes
    prepared: PreparedCT
    identifying_words: frozenset[str]


def take_in_ct(data: bytes, card: CTModelCard, *, dataset: Dataset | None = None) -> CTIntake:
    """Read, check, de-identify and prepare a series for ``card``; an ``ml.errors.ImageError`` if refused.

    ``dataset`` is a multi-frame file already read by the caller (a zip's slices are read here)."""
    datasets = [dataset] if dataset is not None else read_ct_datasets(data)
    series = series_from_datasets(datasets)
    identifying = frozenset().union(*(words_of(*identifying_values(dataset)) for dataset in datasets))
    multiframe = series.source == "dicom-multiframe"
    return CTIntake(
        series=CTSeriesInfo(
            slices=series.slices,
            rows=int(series.hounsfield.shape[1]),
            columns=int(series.hounsfield.shape[2]),
            spacing_mm=series.spacing,
            source=series.source,
        ),
        format="dicom" if multiframe else "zip",
        stored_bytes=_deidentified_series(datasets, multiframe=multiframe),
        display_png=middle_slice_png(series, card),
        prepared=PreparedCT(grey_levels=CTAnalyser.prepare(card, series), card_key=card.input_key),
        identifying_words=identifying,
    )


def middle_slice_png(series: CTSeries, card: CTModelCard) -> bytes:
    """The middle slice in the card's lung window as an 8-bit greyscale PNG, at its own size."""
    windowed = apply_window(series.hounsfield[series.slices // 2], card.window)
    return encode_png(np.round(windowed * np.float32(255.0)).astype(np.uint8))


def _deidentified_series(datasets: list[Dataset], *, multiframe: bool) -> bytes:
    """The de-identified multi-frame file, or a zip of the de-identified slices of one new series."""
    if multiframe:
        return deidentified_copy(datasets[0], extra_attributes=CT_GEOMETRY_ATTRIBUTES)
    study_uid, series_uid = generate_uid(), generate_uid()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        # Members are numbered, not named after the uploaded files, whose names may identify.
        for number, dataset in enumerate(datasets, start=1):
            copy = deidentified_copy(
                dataset, extra_attributes=CT_GEOMETRY_ATTRIBUTES, study_uid=study_uid, series_uid=series_uid
            )
            archive.writestr(f"slice-{number:04d}.dcm", copy)
    return buffer.getvalue()
