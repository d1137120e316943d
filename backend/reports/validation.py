"""What a clinician may type into a report: capped lengths, no control characters but line breaks."""

import re

from common.errors import DomainError

# Tab and line feed are text; every other C0 control character, DEL and the C1 range are not
# (PostgreSQL cannot store NUL, and the others corrupt PDFs and DICOM).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(value: str, *, field: str, max_length: int) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    found = CONTROL_CHARACTERS.search(value)
    if found:
        raise DomainError(
            f"The {field} holds a control character (U+{ord(found.group()):04X}).",
            extra={"field": field, "position": found.start()},
        )
    if len(value) > max_length:
        raise DomainError(
            f"The {field} is {len(value)} characters long; at most {max_length} are allowed.",
            extra={"field": field, "length": len(value), "max_length": max_length},
        )
    return value
