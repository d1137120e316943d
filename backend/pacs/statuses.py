"""DICOM failure statuses for refusals, shared by the C-STORE listener and STOW-RS (PS3.4 and PS3.18)."""

from common.errors import DomainError

SUCCESS = 0x0000
OUT_OF_RESOURCES = 0xA700
# "Data set does not match SOP class": readable DICOM, but not what the service takes (modality,
# body part, view, or the screening refused the pixels).
NOT_ACCEPTED = 0xA900
CANNOT_UNDERSTAND = 0xC000
PROCESSING_FAILURE = 0x0110


def refusal_status(error: DomainError) -> int:
    if error.status_code == 429:
        return OUT_OF_RESOURCES
    if error.status_code == 422:
        return NOT_ACCEPTED
    return CANNOT_UNDERSTAND


def refusal_comment(error: DomainError) -> str:
    """The reason, as the sender reads it: the kind of refusal first, then the full message."""
    reason = error.extra.get("reason")
    return f"{reason}: {error.message}" if reason else error.message
