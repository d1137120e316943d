"""Which files of one upload belong together: DICOM files say their study in Study Instance UID.

The UID is read from the file as it arrived, before de-identification replaces it, and is only
compared, never kept (a PACS image keeps a keyed hash of it: pacs.services.study_group).
"""

import io
import warnings
from collections import defaultdict
from collections.abc import Sequence

import pydicom

from common.errors import DomainError
from studies.uploads import DICOM, ReceivedUpload


def dicom_study_uid(data: bytes) -> str:
    """The Study Instance UID of a DICOM file as it arrived; empty when it has none or is unreadable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dataset = pydicom.dcmread(
                io.BytesIO(data), stop_before_pixels=True, specific_tags=["StudyInstanceUID"]
            )
    except Exception:
        # Arbitrary bytes raise many kinds of error in pydicom; the intake refuses such a file with
        # its own reason, and it simply names no study here.
        return ""
    return str(dataset.get("StudyInstanceUID", "") or "")


def check_one_dicom_study(received: Sequence[ReceivedUpload]) -> None:
    """Refuse (400) DICOM files of one upload that name different studies, naming the files by study."""
    files_by_study: dict[str, list[str]] = defaultdict(list)
    for upload in received:
        if upload.file_type == DICOM and (uid := dicom_study_uid(upload.data)):
            files_by_study[uid].append(upload.filename)
    if len(files_by_study) > 1:
        # The UIDs identify a patient's visit: the answer names the files, grouped, never the UIDs.
        groups = list(files_by_study.values())
        described = "; ".join(", ".join(names) for names in groups)
        raise DomainError(
            f"These DICOM files belong to {len(groups)} different studies (by their Study Instance UID): "
            f"{described}. Upload the images of one study together.",
            extra={"reason": "different studies", "studies": groups},
        )
