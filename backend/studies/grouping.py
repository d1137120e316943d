"""Which files of one upload belong together: DICOM files say their study in Study Instance UID.

The UID is read from the file as it arrived, before de-identification replaces it, and is only
compared, never kept (a PACS image keeps a keyed hash of it: pacs.services.study_group).
"""

from collections import defaultdict
from collections.abc import Callable, Sequence

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


def files_grouped(
    received: Sequence[ReceivedUpload], key_of: Callable[[ReceivedUpload], str]
) -> list[list[str]]:
    """The files' names grouped by a key read from each (a study, a patient), in order; files
    without one are left out."""
    files_by_key: dict[str, list[str]] = defaultdict(list)
    for upload in received:
        if key := key_of(upload):
            files_by_key[key].append(upload.filename)
    return list(files_by_key.values())


def groups_described(groups: Sequence[Sequence[str]]) -> str:
    return "; ".join(", ".join(names) for names in groups)


def check_one_dicom_study(received: Sequence[ReceivedUpload]) -> None:
    """Refuse (400) DICOM files of one upload that name different studies, naming the files by study."""
    # The UIDs identify a patient's visit: the answer names the files, grouped, never the UIDs.
    groups = files_grouped(received, dicom_study_uid)
    if len(groups) > 1:
        raise DomainError(
            f"These DICOM files belong to {len(groups)} different studies (by their Study Instance UID): "
            f"{groups_described(groups)}. Upload the images of one study together.",
            extra={"reason": "different studies", "studies": groups},
        )
