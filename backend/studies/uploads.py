"""Checks on uploaded files before anything is decoded or stored: their number, size, type and name."""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from pydicom.dataset import Dataset

from common.errors import DomainError
from ml.ct.intake import is_ct_series
from ml.ct.series import is_zip
from ml.errors import ImageError
from ml.images.decoding import image_format
from ml.images.dicom import read_dataset
from studies.upload_limits import upload_too_large


@dataclass(frozen=True)
class FileType:
    extension: str
    content_type: str
    # File name extensions that announce this type (a name without one is accepted: DICOM
    # exports often have none).
    known_extensions: frozenset[str]


PNG = FileType("png", "image/png", frozenset({".png"}))
JPEG = FileType("jpg", "image/jpeg", frozenset({".jpg", ".jpeg", ".jpe"}))
DICOM = FileType("dcm", "application/dicom", frozenset({".dcm", ".dicom", ".dic"}))
# A zip of the DICOM slices of one CT series (ml.ct.intake).
ZIP = FileType("zip", "application/zip", frozenset({".zip"}))
SUPPORTED = (PNG, JPEG, DICOM, ZIP)
# By the format names of ml.images.decoding.image_format.
FILE_TYPES = {"png": PNG, "jpeg": JPEG, "dicom": DICOM}
SUPPORTED_CONTENT_TYPES = [file_type.content_type for file_type in SUPPORTED]


@dataclass(frozen=True)
class ReceivedUpload:
    filename: str
    file_type: FileType
    data: bytes

    @cached_property
    def dataset(self) -> Dataset | None:
        """The DICOM file, parsed once for every reader of the upload: its grouping by study, a
        PACS image's origin, the CT routing, and the intake's decoding and de-identification. None
        for a PNG, JPEG or zip; an ml.errors.ImageError for a DICOM file that cannot be read."""
        return read_dataset(self.data) if self.file_type == DICOM else None

    @property
    def is_ct_series(self) -> bool:
        try:
            return is_ct_series(self.data, dataset=self.dataset)
        except ImageError:
            # An unreadable file is the radiograph intake's to refuse, with its message.
            return False


def receive_upload(upload: UploadedFile) -> ReceivedUpload:
    """Read the upload within the size limit and tell its type from its content, not its name."""
    if upload.size is not None and upload.size > settings.CXR_MAX_UPLOAD_BYTES:
        raise upload_too_large(upload.size)
    data = upload.read(settings.CXR_MAX_UPLOAD_BYTES + 1)
    if len(data) > settings.CXR_MAX_UPLOAD_BYTES:
        raise upload_too_large(len(data))
    filename = upload_name(upload)
    if not data:
        raise DomainError("The file is empty.", extra={"filename": filename})
    file_type = sniff(data)
    if file_type is None:
        raise DomainError(
            "Unsupported file type: upload a PNG, JPEG or DICOM radiograph, or a CT series (zip or DICOM).",
            status_code=415,
            extra={"filename": filename, "supported": SUPPORTED_CONTENT_TYPES},
        )
    extension = PurePath(filename).suffix.lower()
    if extension and extension not in file_type.known_extensions:
        # A .png holding a JPEG is most often a mislabelled export, but it may also be an attempt
        # to slip a file past a name-based check downstream: refuse it and say what it really is.
        raise DomainError(
            f"The file is named {extension} but its content is {file_type.content_type}.",
            status_code=415,
            extra={"filename": filename, "content_type": file_type.content_type},
        )
    return ReceivedUpload(filename=filename, file_type=file_type, data=data)


def uploads_receive(uploads: Sequence[UploadedFile]) -> tuple[list[ReceivedUpload], list[DomainError]]:
    """Read each uploaded file within the size limit, and the refusal of each that cannot be.

    One file's refusal is raised at once, as always; several files' are returned, for
    studies.images to name with those of the intake.
    """
    check_image_count(len(uploads))
    if len(uploads) == 1:
        return [receive_upload(uploads[0])], []
    received: list[ReceivedUpload] = []
    refused: list[DomainError] = []
    for upload in uploads:
        try:
            received.append(receive_upload(upload))
        except DomainError as error:
            error.extra.setdefault("filename", upload_name(upload))
            refused.append(error)
    return received, refused


def check_image_count(count: int) -> None:
    limit = settings.CXR_MAX_IMAGES_PER_STUDY
    if count == 0:
        raise DomainError("No file was uploaded: send one image, or several as images.", extra={"files": 0})
    if count > limit:
        raise DomainError(
            f"A study holds at most {limit} images; {count} files were sent.",
            extra={"files": count, "limit": limit},
        )


def upload_name(upload: UploadedFile) -> str:
    return (upload.name or "upload")[:255]


def sniff(data: bytes) -> FileType | None:
    """The upload's type from its signature, as the pipeline's decoder will read it."""
    if is_zip(data):
        return ZIP
    return FILE_TYPES.get(image_format(data) or "")
