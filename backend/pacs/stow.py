"""DICOMweb STOW-RS: POST /api/dicomweb/studies/ with a multipart/related body of DICOM instances.

Each instance goes through the same intake as an upload (pacs.services); the answer is the
standard's DICOM JSON store response: stored instances with the study each became, refused ones
with a failure reason (and the refusal's text in an Error Comment).
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.http import parse_header_parameters

from common.errors import DomainError
from ml.errors import ImageError
from studies.uploads import ReceivedUpload

DICOM_MEDIA_TYPE = "application/dicom"


@dataclass(frozen=True)
class BodyPart:
    content_type: str
    data: bytes


def stow_body_limit() -> int:
    return settings.CXR_MAX_UPLOAD_BYTES * settings.CXR_STOW_MAX_INSTANCES


def multipart_related_parts(*, content_type: str, body: bytes) -> list[BodyPart]:
    """The parts of a multipart/related body of DICOM instances; 400 or 415 for anything else."""
    media_type, parameters = parse_header_parameters(content_type)
    if media_type != "multipart/related" or parameters.get("type", DICOM_MEDIA_TYPE) != DICOM_MEDIA_TYPE:
        raise DomainError(
            'STOW-RS takes multipart/related; type="application/dicom".',
            status_code=415,
            extra={"content_type": content_type[:200]},
        )
    boundary = parameters.get("boundary", "").encode()
    if not boundary:
        raise DomainError("The multipart/related body has no boundary.", extra={"field": "boundary"})
    parts = []
    for chunk in (b"\r\n" + body).split(b"\r\n--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        headers, separator, data = chunk.partition(b"\r\n\r\n")
        if not separator:
            raise DomainError(
                "A part of the multipart body has no header end.", extra={"part": len(parts) + 1}
            )
        part_type = DICOM_MEDIA_TYPE
        for line in headers.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-type":
                part_type = parse_header_parameters(value.strip())[0]
        if part_type != DICOM_MEDIA_TYPE:
            raise DomainError(
                f"Part {len(parts) + 1} is {part_type}, not {DICOM_MEDIA_TYPE}.",
                status_code=415,
                extra={"part": len(parts) + 1, "content_type": part_type[:200]},
            )
        parts.append(BodyPart(content_type=part_type, data=data))
    if not parts:
        raise DomainError("The multipart/related body holds no DICOM instance.", extra={"parts": 0})
    if len(parts) > settings.CXR_STOW_MAX_INSTANCES:
        raise DomainError(
            f"At most {settings.CXR_STOW_MAX_INSTANCES} instances per request.",
            status_code=413,
            extra={"parts": len(parts), "limit": settings.CXR_STOW_MAX_INSTANCES},
        )
    return parts


def sop_reference(received: ReceivedUpload) -> dict[str, Any]:
    """The instance's SOP class and instance UIDs in DICOM JSON, as far as they can be read (from the
    one parse the intake uses too)."""
    reference: dict[str, Any] = {}
    try:
        dataset = received.dataset
    except ImageError:
        # The intake refuses such a part with its own status, and its reference is then simply empty.
        return reference
    for tag, keyword in (("00081150", "SOPClassUID"), ("00081155", "SOPInstanceUID")):
        value = str(dataset.get(keyword, "") or "") if dataset is not None else ""
        if value:
            reference[tag] = {"vr": "UI", "Value": [value]}
    return reference
    for tag, keyword in (("00081150", "SOPClassUID"), ("00081155", "SOPInstanceUID")):
        value = str(dataset.get(keyword, "") or "")
        if value:
            reference[tag] = {"vr": "UI", "Value": [value]}
    return reference
