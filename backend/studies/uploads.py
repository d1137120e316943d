"""Checks on an uploaded file before anything is stored: size and type."""

from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from common.errors import DomainError

# File signatures of the formats the service decodes. The signature decides, not the file name or
# the Content-Type the browser guessed.
SIGNATURES: dict[str, tuple[bytes, str]] = {
    "png": (b"\x89PNG\r\n\x1a\n", "image/png"),
    "jpg": (b"\xff\xd8\xff", "image/jpeg"),
}


@dataclass(frozen=True)
class ReceivedUpload:
    filename: str
    extension: str
    content_type: str
    data: bytes


def upload_too_large(size: int) -> DomainError:
    limit = settings.CXR_MAX_UPLOAD_BYTES
    return DomainError(
        f"The file is larger than the {limit // (1024 * 1024)} MiB limit.",
        status_code=413,
        extra={"size_bytes": size, "limit_bytes": limit},
    )


def receive_upload(upload: UploadedFile) -> ReceivedUpload:
    if upload.size is not None and upload.size > settings.CXR_MAX_UPLOAD_BYTES:
        raise upload_too_large(upload.size)
    data = upload.read(settings.CXR_MAX_UPLOAD_BYTES + 1)
    if len(data) > settings.CXR_MAX_UPLOAD_BYTES:
        raise upload_too_large(len(data))
    if not data:
        raise DomainError("The file is empty.", extra={"filename": upload.name})
    for extension, (signature, content_type) in SIGNATURES.items():
        if data.startswith(signature):
            return ReceivedUpload(
                filename=(upload.name or "upload")[:255],
                extension=extension,
                content_type=content_type,
                data=data,
            )
    raise DomainError(
        "Unsupported file type: upload a PNG or JPEG radiograph.",
        status_code=415,
        extra={"filename": upload.name, "supported": ["image/png", "image/jpeg"]},
    )
