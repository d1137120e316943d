"""Which files of one upload belong together: DICOM files say their study in Study Instance UID.

The UID is read from the file as it arrived, before de-identification replaces it, and is only
compared, never kept (a PACS image keeps a keyed hash of it: pacs.services.study_group).
"""

from collections import defaultdict
from collections.abc import Sequence

from common.errors import DomainError
from ml.errors import ImageError
from studies.uploads import ReceivedUpload


def dicom_study_uid(upload: ReceivedUpload) -> str:
    """The Study Instance UID of a DICOM file as it arrived; empty when it has none or is unreadable
    (the intake refuses such a file with its own reason), and for other types."""
    try:
        dataset = upload.dataset
    except ImageError:
        return ""
    return str(dataset.get("StudyInstanceUID", "") or "") if dataset is not None else ""


def check_one_dicom_study(received: Sequence[ReceivedUpload]) -> None:
    """Refuse (400) DICOM files of one upload that name different studies, naming the files by study."""
    files_by_study: dict[str, list[str]] = defaultdict(list)
    for upload in received:
        if uid := dicom_study_uid(upload):
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
