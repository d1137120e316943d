"""DICOM radiographs: decoding to grey levels, the tags that decide whether one is acceptable,
and the de-identified copy that is the only form in which the service keeps a DICOM file.

De-identification keeps an allow-list of attributes instead of removing a deny-list: whatever a
vendor put in a private or unexpected tag is dropped without anyone having to know of it. What is
kept covers the pixels and their display (image pixel module, LUTs, spacing) and the few facts a
clinician needs (age, sex, view, body part, modality), as the DICOM PS3.15 basic profile allows
with its "retain patient characteristics" option. Instance UIDs are generated anew.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import generate_uid

from ml.errors import ImageDecodeError, ImageRejectedError, ImageTooLargeError, UnsupportedImageError
from ml.images.dicom_grey_levels import display_grey_levels
from ml.images.radiograph import MAX_PIXELS, ImageMetadata, Radiograph

# Projection radiography. Anything else (CT, MR, US, NM, ...) is a different kind of image.
RADIOGRAPH_MODALITIES = frozenset({"CR", "DX", "DR", "RG"})
CHEST_BODY_PARTS = frozenset({"CHEST", "THORAX", "LUNG", "LUNGS", "PORTABLE CHEST", "CHEST PA", "CHEST AP"})
LATERAL_VIEWS = frozenset({"LL", "RL", "LLD", "RLD", "LAT", "LATERAL", "LLO", "RLO"})

# The attributes a stored copy keeps (besides the new UIDs and the de-identification record).
KEPT_ATTRIBUTES = (
    "SpecificCharacterSet",
    "SOPClassUID",
    "Modality",
    "BodyPartExamined",
    "ViewPosition",
    "PatientAge",
    "PatientSex",
    "PixelSpacing",
    "ImagerPixelSpacing",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "Rows",
    "Columns",
    "BitsAllocated",
    "BitsStored",
    "HighBit",
    "PixelRepresentation",
    "PlanarConfiguration",
    "RescaleIntercept",
    "RescaleSlope",
    "RescaleType",
    "ModalityLUTSequence",
    "WindowCenter",
    "WindowWidth",
    "VOILUTFunction",
    "VOILUTSequence",
    "PresentationLUTShape",
    "LossyImageCompression",
    "LossyImageCompressionRatio",
    "LossyImageCompressionMethod",
    "PixelData",
)


def is_dicom(data: bytes) -> bool:
    """A DICOM Part 10 file: a 128-byte preamble, then the magic 'DICM'."""
    return len(data) >= 132 and data[128:132] == b"DICM"


def read_dataset(data: bytes) -> Dataset:
    try:
        with warnings.catch_warnings():
            # pydicom warns about every tolerated oddity; decoding errors below say what matters.
            warnings.simplefilter("ignore")
            return pydicom.dcmread(io.BytesIO(data), force=False)
    except InvalidDicomError as error:
        raise UnsupportedImageError("The file is not a valid DICOM file.") from error
    except Exception as error:
        raise ImageDecodeError("The DICOM file is truncated or corrupt.") from error


def decode_dicom(data: bytes | Dataset, *, accept_lateral: bool = False) -> Radiograph:
    """Decode a single-frame greyscale DICOM radiograph, refusing other images by their tags.

    ``data`` is the file's bytes or, where the caller has already read them, its dataset.

    ``accept_lateral`` lets a lateral view through (kept and shown beside a frontal image of the
    same study, never analysed); by default it is refused like any image the model cannot read.
    """
    dataset = data if isinstance(data, Dataset) else read_dataset(data)
    check_chest_radiograph_tags(dataset, accept_lateral=accept_lateral)
    rows, columns = int(dataset.get("Rows", 0) or 0), int(dataset.get("Columns", 0) or 0)
    if rows * columns > MAX_PIXELS:
        raise ImageTooLargeError(
            f"The image is too large ({columns}x{rows} pixels; at most {MAX_PIXELS:,} pixels are accepted)."
        )
    if "PixelData" not in dataset or rows == 0 or columns == 0:
        raise ImageDecodeError("The DICOM file holds no image (no Pixel Data).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pixels = display_grey_levels(dataset.pixel_array, dataset)
    except Exception as error:
        raise ImageDecodeError(
            "The DICOM image data cannot be decoded (truncated, corrupt or unsupported)."
        ) from error
    if pixels.ndim != 2:
        raise ImageRejectedError(
            "The DICOM image is not a single greyscale frame.", reason="not a single frame", tag="(0028,0008)"
        )
    bits_stored = int(dataset.get("BitsStored", 8) or 8)
    return Radiograph(
        pixels=pixels.astype(np.float32),
        bit_depth=8 if bits_stored <= 8 else 16,
        metadata=metadata_of(dataset),
    )


def is_lateral_view(view_position: str | None) -> bool:
    """Whether a View Position (0018,5101) names a lateral projection."""
    return (view_position or "").strip().upper() in LATERAL_VIEWS


def check_chest_radiograph_tags(dataset: Dataset, *, accept_lateral: bool = False) -> None:
    """Refuse, naming the tag, images that their own header says are not a frontal chest radiograph
    (or, with ``accept_lateral``, not a chest radiograph)."""
    modality = str(dataset.get("Modality", "") or "").upper()
    if modality and modality not in RADIOGRAPH_MODALITIES:
        raise ImageRejectedError(
            f"Modality (0008,0060) is {modality}: only chest radiographs (CR or DX) can be analysed.",
            reason="not a radiograph",
            tag="(0008,0060) Modality",
        )
    body_part = str(dataset.get("BodyPartExamined", "") or "").upper()
    if body_part and body_part not in CHEST_BODY_PARTS:
        raise ImageRejectedError(
            f"Body Part Examined (0018,0015) is {body_part}: only chest radiographs can be analysed.",
            reason="not a chest radiograph",
            tag="(0018,0015) Body Part Examined",
        )
    frames = int(dataset.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        raise ImageRejectedError(
            f"Number of Frames (0028,0008) is {frames}: upload a single-frame radiograph.",
            reason="multi-frame image",
            tag="(0028,0008) Number of Frames",
        )
    if int(dataset.get("SamplesPerPixel", 1) or 1) != 1:
        raise ImageRejectedError(
            "Samples per Pixel (0028,0002) is not 1: this is a colour image, not a radiograph.",
            reason="colour image",
            tag="(0028,0002) Samples per Pixel",
        )
    view = str(dataset.get("ViewPosition", "") or "").upper()
    if is_lateral_view(view) and not accept_lateral:
        raise ImageRejectedError(
            f"View Position (0018,5101) is {view}: the model reads frontal (PA or AP) views only.",
            reason="lateral view",
            tag="(0018,5101) View Position",
        )


def metadata_of(dataset: Dataset) -> ImageMetadata:
    return ImageMetadata(
        modality=text_or_none(dataset.get("Modality")),
        body_part=text_or_none(dataset.get("BodyPartExamined")),
        view_position=text_or_none(dataset.get("ViewPosition")),
        patient_age_years=age_in_years(text_or_none(dataset.get("PatientAge"))),
        patient_sex=text_or_none(dataset.get("PatientSex")),
        pixel_spacing_mm=spacing_of(dataset),
    )


def text_or_none(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def age_in_years(age: str | None) -> int | None:
    """DICOM ages read '062Y', '018M', '003W' or '010D'; some writers leave out the unit."""
    if not age:
        return None
    digits, unit = (age[:-1], age[-1].upper()) if age[-1].isalpha() else (age, "Y")
    if not digits.isdigit():
        return None
    per_year = {"Y": 1, "M": 12, "W": 52, "D": 365}.get(unit)
    return int(digits) // per_year if per_year else None


def spacing_of(dataset: Dataset) -> tuple[float, float] | None:
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        value = dataset.get(keyword)
        try:
            if value is not None and len(value) == 2:
                return (float(value[0]), float(value[1]))
        except (TypeError, ValueError):
            continue
    return None


def deidentified_copy(
    data: bytes | Dataset,
    *,
    extra_attributes: tuple[str, ...] = (),
    study_uid: str | None = None,
    series_uid: str | None = None,
) -> bytes:
    """The file as the service stores it: only the allow-listed attributes, with new UIDs.

    ``data`` is the file's bytes or, where the caller has already read them, its dataset.
    ``extra_attributes`` extend the allow-list (a CT slice keeps its place in the volume), and
    ``study_uid``/``series_uid`` replace the new ones, so the slices of one series stay one series.
    """
    source = data if isinstance(data, Dataset) else read_dataset(data)
    kept = Dataset()
    for keyword in KEPT_ATTRIBUTES + extra_attributes:
        if keyword in source:
            kept[keyword] = source[keyword]
    kept.SOPInstanceUID = generate_uid()
    kept.StudyInstanceUID = study_uid or generate_uid()
    kept.SeriesInstanceUID = series_uid or generate_uid()
    kept.PatientName = ""
    kept.PatientID = ""
    kept.PatientIdentityRemoved = "YES"
    kept.DeidentificationMethod = "Allow-list: PS3.15 basic profile, retain patient characteristics"

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = source.get("SOPClassUID", "1.2.840.10008.5.1.4.1.1.7")
    meta.MediaStorageSOPInstanceUID = kept.SOPInstanceUID
    meta.TransferSyntaxUID = source.file_meta.TransferSyntaxUID
    kept.file_meta = meta
    kept.preamble = b"\x00" * 128

    buffer = io.BytesIO()
    kept.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


# Attributes whose values identify a patient, a visit or an instance (PS3.15 basic profile).
IDENTIFYING_ATTRIBUTES = (
    "PatientName",
    "PatientID",
    "OtherPatientIDs",
    "PatientBirthDate",
    "PatientAddress",
    "AccessionNumber",
    "StudyID",
    "InstitutionName",
    "ReferringPhysicianName",
    "PerformingPhysicianName",
    "OperatorsName",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
)


def identifying_values(data: bytes | Dataset) -> list[str]:
    """The identifying values a DICOM file (its bytes or its dataset) holds, to find them where they
    must not be."""
    dataset = data if isinstance(data, Dataset) else read_dataset(data)
    values = []
    for keyword in IDENTIFYING_ATTRIBUTES:
        text = text_or_none(dataset.get(keyword))
        if text:
            values.append(text)
    return values
